/** The page's stylesheet; inline so that the page is one response with no file to find at run time. */
export const dashboardStyle = String.raw`
:root {
  --bg: #f4f6f9; --panel: #ffffff; --text: #1d2433; --muted: #667085; --line: #e3e8ef;
  --accent: #563acc; --accent-soft: #ebe7fb; --track: #edf0f5;
  --copied: #1f9d55; --skipped: #5b8def; --missing: #e5a00d; --absent: #b3bccb; --failed: #d93f3f;
  --mono: "DejaVu Sans Mono", ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151c; --panel: #1b2029; --text: #e6e9ef; --muted: #98a2b3; --line: #2b3240;
    --accent: #8c75ff; --accent-soft: #2a2447; --track: #262c38; --absent: #4f5868;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
.top { display: flex; align-items: center; justify-content: space-between; gap: 16px; padding: 14px 28px; background: #1f1a3d; color: #fff; }
.brand { display: flex; align-items: baseline; gap: 12px; }
.brand h1 { margin: 0; font-size: 18px; font-weight: 650; letter-spacing: .2px; }
.brand .sub { color: #b9b3d9; font-size: 13px; }
.brand .mode { align-self: center; padding: 2px 8px; border-radius: 999px; background: #e5a00d; color: #1f1a3d; font-size: 12px; font-weight: 600; }
.logo { width: 12px; height: 12px; border-radius: 3px; background: linear-gradient(135deg, #8c75ff, #5b8def); align-self: center; }
.status { display: flex; align-items: center; gap: 8px; font-size: 13px; color: #d8d4ee; }
.status .dot { width: 9px; height: 9px; border-radius: 50%; background: #8a8fa3; }
.status[data-state="live"] .dot { background: #35d07f; box-shadow: 0 0 0 3px rgba(53, 208, 127, .25); }
.status[data-state="finished"] .dot { background: #8c75ff; }
.status[data-state="stale"] .dot, .status[data-state="reconnecting"] .dot { background: #e5a00d; }
.status[data-state="unavailable"] .dot { background: #d93f3f; box-shadow: 0 0 0 3px rgba(217, 63, 63, .3); }
.source-problem { margin: 0; padding: 10px 14px; border: 1px solid rgba(217, 63, 63, .4); border-radius: 8px; background: rgba(217, 63, 63, .1); font-weight: 550; }
main[data-stale] .overview, main[data-stale] .jobs { opacity: .5; }
main { max-width: 1280px; margin: 0 auto; padding: 22px 28px 40px; display: grid; gap: 22px; }
.overview { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 14px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .6px; }
.tile .value { font-size: 24px; font-weight: 650; margin-top: 4px; font-variant-numeric: tabular-nums; }
.tile .hint { color: var(--muted); font-size: 12.5px; margin-top: 2px; font-variant-numeric: tabular-nums; }
.tile.problem .value { color: var(--failed); }
.jobs { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 14px; }
.job { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px 14px; display: grid; gap: 10px; }
.job > header { display: flex; align-items: center; justify-content: space-between; }
.job h3 { margin: 0; font-size: 15px; font-weight: 650; font-family: var(--mono); }
.badge { font-size: 11.5px; font-weight: 600; padding: 2px 9px; border-radius: 999px; background: var(--accent-soft); color: var(--accent); text-transform: uppercase; letter-spacing: .5px; }
.job[data-state="finished"] .badge { background: rgba(31, 157, 85, .12); color: var(--copied); }
.job[data-state="finished"][data-failed="yes"] .badge { background: rgba(217, 63, 63, .12); color: var(--failed); }
.bar { height: 12px; border-radius: 6px; background: var(--track); overflow: hidden; display: flex; }
.bar span { height: 100%; transition: width .4s ease; }
.bar .copied { background: var(--copied); } .bar .skipped { background: var(--skipped); } .bar .missing { background: var(--missing); }
.bar .absent { background: var(--absent); } .bar .failed { background: var(--failed); }
.progress-line { display: flex; align-items: baseline; gap: 12px; font-variant-numeric: tabular-nums; }
.percent { font-size: 22px; font-weight: 700; min-width: 62px; }
.objects { color: var(--text); }
.eta { margin-left: auto; color: var(--muted); }
.facts { display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
.facts b { color: var(--text); font-weight: 600; }
.chart-box { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px 6px; }
.chart-head { display: flex; justify-content: space-between; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.chart-head .key { display: inline-flex; align-items: center; gap: 6px; }
.chart-head .swatch { width: 10px; height: 3px; border-radius: 2px; background: var(--accent); }
.chart-head .swatch.rate { background: var(--copied); }
svg.chart { display: block; width: 100%; height: 72px; margin-top: 4px; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
svg.chart .area { fill: var(--accent); fill-opacity: .16; stroke: var(--accent); stroke-width: 1.6; vector-effect: non-scaling-stroke; }
svg.chart .rate-line { fill: none; stroke: var(--copied); stroke-width: 1.3; stroke-dasharray: 3 2; vector-effect: non-scaling-stroke; }
.counts { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 6px; margin: 0; }
.counts div { border-radius: 7px; background: var(--bg); padding: 5px 8px; }
.counts dt { font-size: 11px; color: var(--muted); display: flex; align-items: center; gap: 5px; }
.counts dt::before { content: ""; width: 7px; height: 7px; border-radius: 2px; background: var(--muted); }
.counts .copied dt::before { background: var(--copied); } .counts .skipped dt::before { background: var(--skipped); }
.counts .missing dt::before { background: var(--missing); } .counts .absent dt::before { background: var(--absent); }
.counts .failed dt::before { background: var(--failed); } .counts .in-flight dt::before { background: var(--accent); }
.counts dd { margin: 0; font-weight: 650; font-variant-numeric: tabular-nums; }
.counts .failed.nonzero dd { color: var(--failed); } .counts .missing.nonzero dd { color: #b57c00; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.panel > h2 { margin: 0; padding: 12px 18px; font-size: 14px; font-weight: 650; border-bottom: 1px solid var(--line); display: flex; justify-content: space-between; }
.panel > h2 small { color: var(--muted); font-weight: 400; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .5px; padding: 8px 18px; border-bottom: 1px solid var(--line); }
td { padding: 7px 18px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.time { color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
td.key { font-family: var(--mono); font-size: 12.5px; word-break: break-all; }
td.reason { color: var(--muted); }
.outcome { font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 999px; text-transform: uppercase; letter-spacing: .4px; }
.outcome.failed { background: rgba(217, 63, 63, .12); color: var(--failed); }
.outcome.missing { background: rgba(229, 160, 13, .15); color: #b57c00; }
.empty { color: var(--muted); padding: 14px 18px; margin: 0; }
.log { font-family: var(--mono); font-size: 12px; line-height: 1.55; max-height: 300px; overflow: auto; padding: 10px 18px; white-space: pre-wrap; word-break: break-all; background: var(--panel); }
.log div { color: var(--text); }
.log .warn { color: #b57c00; } .log .error { color: var(--failed); } .log .debug { color: var(--muted); }
.log .t { color: var(--muted); margin-right: 8px; }
@media (max-width: 900px) { .overview { grid-template-columns: repeat(2, minmax(0, 1fr)); } .jobs { grid-template-columns: 1fr; } .counts { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
`;
