import { createHash } from 'node:crypto';
import { dashboardScript } from './dashboard-script.js';
import { dashboardStyle } from './dashboard-style.js';

/**
 * The dashboard: one self-contained HTML response. It is a TypeScript module rather than an .html
 * file so that `tsc` carries it into dist/ and nothing has to be found on disk at run time. A dry
 * run's page says so, and counts what would be copied rather than what was written. Without a log
 * tail (`ui --queue`: the workers log on their machines) the log panel says where the lines are.
 */
export const dashboardHtml = ({ dryRun, logTail }: { dryRun: boolean; logTail: boolean }): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mastodon-s3-sync · dashboard</title>
<link rel="icon" href="data:,">
<style>${dashboardStyle}</style>
</head>
<body${dryRun ? ' data-dry-run' : ''}>
<header class="top">
  <div class="brand"><span class="logo"></span><h1>mastodon-s3-sync</h1><span class="sub">media migration dashboard</span>${dryRun ? '<span class="mode" id="dry-run">dry run · nothing is written</span>' : ''}</div>
  <div class="status" id="status" data-state="connecting"><span class="dot"></span><span id="status-text">connecting…</span></div>
</header>
<main>
  <p class="source-problem" id="source-problem" role="alert" hidden></p>
  <section class="overview" aria-label="totals">
    <div class="tile"><div class="label">Objects done</div><div class="value" id="total-objects">0 / 0</div><div class="hint" id="total-percent">&nbsp;</div></div>
    <div class="tile"><div class="label">${dryRun ? 'Data to copy' : 'Data written'}</div><div class="value" id="total-bytes">0 B</div><div class="hint" id="total-skipped">&nbsp;</div></div>
    <div class="tile"><div class="label">Throughput</div><div class="value" id="total-rate">0 B/s</div><div class="hint" id="total-jobs">&nbsp;</div></div>
    <div class="tile" id="problems-tile"><div class="label">Failed / missing</div><div class="value" id="total-problems">0 / 0</div><div class="hint">failed: gave up after retries · missing: not in the source</div></div>
  </section>
  <section class="jobs" id="jobs" aria-label="jobs"><p class="empty" id="jobs-empty">Waiting for the first job…</p></section>
  <section class="panel" aria-label="latest failures">
    <h2>Latest failures <small>newest first · all of them in the log and at /api/failures</small></h2>
    <p class="empty" id="failures-empty">No failed or missing object so far.</p>
    <table id="failures" hidden>
      <thead><tr><th>time</th><th>job</th><th>outcome</th><th>key</th><th>reason</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="panel" aria-label="log">
    <h2>Log <small>last lines</small></h2>
    <p class="empty" id="log-empty">${logTail ? 'No log line yet.' : "Each worker logs on its own machine; the counts and the latest failures above are the whole run's."}</p>
    <div class="log" id="log"></div>
  </section>
</main>
<script>${dashboardScript}</script>
</body>
</html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Only this page's own inline script and style may run, and it may only talk back to this server:
 * were a key or log line ever to slip markup past textContent, it still could not execute.
 */
export const dashboardContentSecurityPolicy = [
  "default-src 'none'",
  `script-src ${sha256(dashboardScript)}`,
  `style-src ${sha256(dashboardStyle)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
