/** docs/benchmarks.md and its chart, from one bench run's results. No dependencies: the SVG is written by hand. */
import type { PlanSummary } from '../tools/synthetic-instance/index.js';
import type { ListingResults } from './listing.js';

export interface CopyRun {
  name: string;
  label: string;
  command: string;
  exitCode: number | null;
  seconds: number;
  objects: number;
  bytes: number;
  objectsPerSecond: number;
  megabytesPerSecond: number;
  peakRssMiB: number;
  cpuSeconds: number;
  serverCpuSeconds: number;
  /** CPU other processes on the machine used meanwhile: noise. */
  backgroundCpuSeconds: number;
  /** Wall seconds of every attempt, when the bench repeated the contenders. */
  attempts?: number[];
  requestsPerObject: number;
  requestsByKind: Record<string, number>;
  verified: boolean;
  verification: string;
  note: string;
}

export interface Target {
  name: string;
  measured: string;
  pass: boolean;
}

export interface BenchResults {
  date: string;
  finishedSeconds: number;
  command: string;
  machine: { cpus: number; cpuModel: string; oneCoreMd5MBps?: number; memoryGiB: number; os: string; node: string; rclone: string; postgres: string; s3rver: string };
  settings: { scale: number; seed: string; concurrency: number; repeat: number };
  instance: PlanSummary & { generateSeconds: number; keysMatchGenerator: boolean };
  runs: CopyRun[];
  /** Round by round (with --repeat): the first copy's ratio to rclone's and that round's ceiling for a costless client. */
  firstCopyRounds?: { ratio: number; ceiling: number }[];
  bigObject?: {
    bytes: number;
    seconds: number;
    megabytesPerSecond: number;
    peakRssMiB: number;
    backgroundCpuSeconds: number;
    requests: Record<string, number>;
    verified: boolean;
    exitCode: number | null;
    rssSamples: [number, number][];
  };
  enumeration?: {
    rows: number;
    insertSeconds: number;
    seconds: number;
    rowsPerSecond: number;
    steadyRowsPerSecond: number;
    keys: number;
    peakRssMiB: number;
    /** The same enumeration over four times the rows (another database): flat memory means the same peak. */
    fourfoldRows: number;
    fourfoldPeakRssMiB: number;
    flat: boolean;
    backgroundCpuSeconds: number;
    exitCode: number | null;
    rssSamples: [number, number][];
  };
  listing?: ListingResults;
  targets: Target[];
}

/**
 * The most any client could gain over rclone on this rig in this run. Both s3rvers share the cores with the contender, so
 * with the cores saturated time follows total CPU: a client that cost nothing would still leave the servers' CPU for
 * the tool's requests, against everything rclone and its servers spent together.
 */
export function costlessClientCeiling(toolFirst: CopyRun, rcloneFirst: CopyRun): number {
  return (rcloneFirst.cpuSeconds + rcloneFirst.serverCpuSeconds) / toolFirst.serverCpuSeconds;
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits);

/** `value` to `digits` decimals, or one more where rounding would carry it across the target's `threshold` (1.4962 is 1.496×, not 1.50×). */
export function fixedBeside(value: number, threshold: number, digits: number): string {
  const text = value.toFixed(digits);
  return Number(text) >= threshold === value >= threshold ? text : fixedBeside(value, threshold, digits + 1);
}
const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');
/** The middle value (the lower of the two middle ones), as the run table picks its median attempt. */
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? 0;

function size(bytes: number): string {
  if (bytes >= 1e9) return `${fixed(bytes / 1e9, 2)} GB`;
  if (bytes >= 1e6) return `${fixed(bytes / 1e6, 1)} MB`;
  return `${fixed(bytes / 1e3, 0)} kB`;
}

function table(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const rule = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function requestsText(byKind: Record<string, number>): string {
  return Object.entries(byKind)
    .filter(([, n]) => n >= 0.005)
    .map(([kind, n]) => `${kind} ${fixed(n, 2)}`)
    .join(', ');
}

export function renderMarkdown(results: BenchResults, chartFile: string, analysis: string, options: { brief?: boolean } = {}): string {
  const r = (name: string): CopyRun | undefined => results.runs.find((run) => run.name === name);
  const toolFirst = r('tool-first');
  const rcloneFirst = r('rclone-first');
  const bare = r('bare');
  const toolRerun = r('tool-rerun');
  const rcloneRerun = r('rclone-rerun');
  const lean = r('lean');
  const runTable = table(
    ['run', 'seconds', 'objects/s', 'MB/s', 'peak RSS (MiB)', 'CPU s (client)', 'CPU s (both s3rvers)', 'CPU s (other processes)', 'requests/object', 'destination verified'],
    results.runs.map((run) => [
      run.label,
      run.attempts !== undefined && run.attempts.length > 1 ? `${fixed(run.seconds)} (of ${run.attempts.map((a) => fixed(a)).join(', ')})` : fixed(run.seconds),
      thousands(run.objectsPerSecond),
      fixed(run.megabytesPerSecond),
      fixed(run.peakRssMiB, 0),
      fixed(run.cpuSeconds),
      fixed(run.serverCpuSeconds),
      fixed(run.backgroundCpuSeconds),
      fixed(run.requestsPerObject, 2),
      run.verified ? 'yes' : `**NO**: ${run.verification}`,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
  const ratios =
    toolFirst && rcloneFirst && bare && toolRerun && rcloneRerun
      ? [
          `- first copy, this tool vs rclone: **${fixedBeside(toolFirst.objectsPerSecond / rcloneFirst.objectsPerSecond, 1.5, 2)}×** the throughput; a client that cost no CPU at all could have reached at most ${fixed(costlessClientCeiling(toolFirst, rcloneFirst), 2)}× on this machine in this run (rclone's client and server CPU ÷ the servers' CPU for this tool's requests)${
            results.firstCopyRounds !== undefined && results.firstCopyRounds.length > 1
              ? `; round by round ${results.firstCopyRounds.map((round) => `${fixed(round.ratio, 2)}× (at most ${fixed(round.ceiling, 2)}×)`).join(', ')}`
              : ''
          }`,
          `- first copy, this tool vs the bare SDK loop: **${fixed((100 * toolFirst.objectsPerSecond) / bare.objectsPerSecond, 0)}%**`,
          `- bare SDK loop vs rclone: ${fixed(bare.objectsPerSecond / rcloneFirst.objectsPerSecond, 2)}× (the AWS SDK's own cost, before the tool adds anything)`,
          `- re-run, rclone's time ÷ this tool's: **${fixed(rcloneRerun.seconds / toolRerun.seconds, 1)}×**`,
          ...(lean !== undefined
            ? [`- client CPU per object: this tool ${fixed((1000 * toolFirst.cpuSeconds) / toolFirst.objects, 2)} ms, bare SDK loop ${fixed((1000 * bare.cpuSeconds) / bare.objects, 2)} ms, rclone ${fixed((1000 * rcloneFirst.cpuSeconds) / rcloneFirst.objects, 2)} ms, node:http loop without the SDK's middleware ${fixed((1000 * lean.cpuSeconds) / lean.objects, 2)} ms`]
            : []),
        ].join('\n')
      : '';
  const targetTable = table(
    ['target', 'measured', 'result'],
    results.targets.map((t) => [t.name, t.measured, t.pass ? '**PASS**' : '**MISS**']),
  );
  if (options.brief === true) return [runTable, '', ratios, '', targetTable].join('\n');

  const m = results.machine;
  const i = results.instance;
  const lines: string[] = [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench\` (bench/run.ts) on ${results.date}. Do not edit: rerun the bench; commentary lives in bench/analysis.md. -->`,
    '',
    `Measured on ${results.date.slice(0, 10)} with:`,
    '',
    '```sh',
    results.command,
    '```',
    '',
    `The whole run took ${fixed(results.finishedSeconds / 60)} minutes. Everything ran on one machine, in one invocation: the same two local S3`,
    'endpoints (two s3rver processes, source and destination), the same key list (what `mastodon-s3-sync keys` prints),',
    `the same concurrency (${results.settings.concurrency} transfers; rclone \`--transfers ${results.settings.concurrency} --checkers ${results.settings.concurrency}\`), and each contender wrote into its own empty bucket.`,
    '',
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPUs', `${m.cpus} × ${m.cpuModel}`],
        ...(m.oneCoreMd5MBps !== undefined ? [['one core', `MD5 at ${m.oneCoreMd5MBps.toFixed(0)} MB/s (best of 5, at the end of the run: a yardstick for runs made on other machines or at other times)`]] : []),
        ['memory', `${fixed(m.memoryGiB)} GiB`],
        ['OS', m.os],
        ['Node.js', m.node],
        ['rclone', m.rclone],
        ['PostgreSQL', m.postgres],
        ['s3rver', m.s3rver],
      ],
    ),
    '',
    '## The instance',
    '',
    `Generated by \`tools/synthetic-instance\` at scale ${thousands(results.settings.scale)}, seed \`${results.settings.seed}\`, in ${fixed(i.generateSeconds)} s:`,
    '',
    `- rows: ${Object.entries(i.rows).map(([table, n]) => `${table} ${thousands(n)}`).join(', ')}`,
    `- **${thousands(i.referencedKeys)} referenced objects, ${size(i.referencedBytes)}**; object sizes: median ${size(i.sizePercentiles.p50)}, p90 ${size(i.sizePercentiles.p90)}, p99 ${size(i.sizePercentiles.p99)}, largest ${size(i.sizePercentiles.max)}`,
    `- ${thousands(i.orphans)} orphans (${size(i.orphanBytes)}) in the source that no row references and nobody may copy`,
    `- the \`keys\` command lists ${i.keysMatchGenerator ? 'exactly' : '**not**'} the keys the generator derived`,
    '',
    '## Results',
    '',
    `![throughput, re-run time and peak memory](${chartFile})`,
    '',
    runTable,
    '',
    `MB = 10⁶ bytes. Peak RSS is the whole process tree of the contender, sampled from /proc every 50 ms. CPU s (client) is the user + system time of that tree; CPU s (both s3rvers) is what the two servers burned meanwhile; CPU s (other processes) is everything else on the machine during the run — noise, which the bench waits out before each run (up to a limit) but cannot forbid.${results.settings.repeat > 1 ? ` Each contender ran ${results.settings.repeat} times, round-robin, each round starting with the next contender (the tool with its re-run, rclone with its re-run, the bare SDK loop, the node:http loop), each time into fresh buckets; the table shows the median attempt (peak RSS: the highest of all attempts).` : ''} Requests are counted inside both s3rver processes (source + destination) and divided by the number of objects.`,
    '',
    ratios,
    '',
    'Requests per object, by kind:',
    '',
    table(['run', 'requests per object'], results.runs.map((run) => [run.label, requestsText(run.requestsByKind)])),
    '',
    '## Targets',
    '',
    targetTable,
    '',
  ];
  if (results.bigObject !== undefined) {
    const b = results.bigObject;
    lines.push(
      '## One big object',
      '',
      `One ${size(b.bytes)} backup dump, streamed into the source, copied by \`sync\`: ${fixed(b.seconds)} s (${fixed(b.megabytesPerSecond)} MB/s), **peak RSS ${fixed(b.peakRssMiB, 0)} MiB**, exit ${b.exitCode}, ${b.verified ? 'size verified at the destination' : '**not found whole at the destination**'}. Requests: ${requestsText(b.requests)}.`,
      '',
      `RSS over time (s, MiB): ${b.rssSamples.filter((_, k) => k % 6 === 0).map(([t, v]) => `${fixed(t)} s ${fixed(v, 0)}`).join(' · ')}`,
      '',
    );
  }
  if (results.enumeration !== undefined) {
    const e = results.enumeration;
    lines.push(
      '## Enumeration',
      '',
      `${thousands(e.rows)} media_attachments rows (inserted with \`INSERT … SELECT generate_series\` in ${fixed(e.insertSeconds)} s), enumerated by \`mastodon-s3-sync keys media_attachments\` (keyset pages, key derivation, stdout): ${fixed(e.seconds)} s from process start to exit = **${thousands(e.rowsPerSecond)} rows/s** (${thousands(e.steadyRowsPerSecond)} rows/s from the first key printed), ${thousands(e.keys)} keys. Peak RSS **${fixed(e.peakRssMiB, 0)} MiB**; over ${thousands(e.fourfoldRows)} rows (four times as many, in another database) it was ${fixed(e.fourfoldPeakRssMiB, 0)} MiB: memory ${e.flat ? 'does not grow' : '**grows**'} with the row count.`,
      '',
      `RSS over time (s, MiB): ${e.rssSamples.filter((_, k) => k % 6 === 0).map(([t, v]) => `${fixed(t)} s ${fixed(v, 0)}`).join(' · ')}`,
      '',
    );
  }
  if (results.listing !== undefined) {
    const l = results.listing;
    const run = (name: string, listed: ListingResults['uncut']): string[] => [name, `${fixed(median(listed.seconds), 2)} (of ${listed.seconds.map((s) => fixed(s, 2)).join(', ')})`, String(listed.requests), listed.complete ? 'yes' : '**no**'];
    lines.push(
      '## Listing one large prefix',
      '',
      `${thousands(l.keys)} keys under \`media_attachments/files/\` (snowflake ids over four years, four times as many a day at the end; put in ${fixed(l.putSeconds)} s), listed by the code \`sync --inventory\`, \`verify\` and \`orphans\` use, ${l.parallel} listings at once, through a proxy adding **${l.latencyMs} ms to every request**. Cut: past the first 10,000 keys, the rest in ranges between the id partitions of the table's id quantiles.`,
      '',
      table(['listing', 'seconds (median)', 'requests', 'every key'], [run('one sequence of pages', l.uncut), run('cut at the id quantiles', l.cut)], ['l', 'r', 'r', 'l']),
      '',
      `Cut, the listing was ${fixed(median(l.uncut.seconds) / median(l.cut.seconds), 2)}× as fast. s3rver spends its own CPU on each page, in one process, which ranges cannot overlap; S3 answers pages in parallel, so there the gain is bounded by the listings at once instead.`,
      '',
    );
  }
  lines.push(
    '## How each contender ran',
    '',
    ...results.runs.map((run) => `- **${run.label}**: \`${run.command.replace(/\/tmp\/mss-bench-[^/ ]+/g, '$WORK').replace(/\{.*\}/, "'{…}'")}\` — ${run.note}; ${run.verification}.`),
    '',
  );
  if (analysis.trim() !== '') lines.push(analysis.trim(), '');
  return lines.join('\n');
}

// --- the chart ---------------------------------------------------------------------------------

interface Bar {
  label: string;
  value: number;
  colour: string;
}

const colours = { tool: '#6364ff', rclone: '#e0803a', bare: '#8a8a8a', other: '#3aa17e' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(x: number, y: number, width: number, title: string, bars: Bar[], unit: string, limit?: { value: number; label: string }): string {
  const labelWidth = 165;
  const barArea = width - labelWidth - 85;
  const max = Math.max(...bars.map((b) => b.value), limit?.value ?? 0) * 1.1 || 1;
  const rowHeight = 30;
  const parts = [`<text x="${x}" y="${y}" font-size="14" font-weight="bold">${escape(title)}</text>`];
  bars.forEach((bar, index) => {
    const top = y + 16 + index * rowHeight;
    const length = Math.max(1, (bar.value / max) * barArea);
    parts.push(
      `<text x="${x + labelWidth - 8}" y="${top + 15}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${x + labelWidth}" y="${top}" width="${length.toFixed(1)}" height="20" fill="${bar.colour}" rx="2"/>`,
      `<text x="${x + labelWidth + length + 5}" y="${top + 15}" font-size="12">${escape(formatValue(bar.value))} ${escape(unit)}</text>`,
    );
  });
  if (limit !== undefined) {
    const lx = x + labelWidth + (limit.value / max) * barArea;
    const bottom = y + 16 + bars.length * rowHeight;
    parts.splice(
      1,
      0,
      `<line x1="${lx.toFixed(1)}" y1="${y + 10}" x2="${lx.toFixed(1)}" y2="${bottom}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
      `<text x="${lx.toFixed(1)}" y="${bottom + 13}" font-size="11" fill="#c0392b" text-anchor="middle">${escape(limit.label)}</text>`,
    );
  }
  return parts.join('\n');
}

function formatValue(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function renderChart(results: BenchResults): string {
  const run = (name: string): CopyRun | undefined => results.runs.find((r) => r.name === name);
  const bar = (name: string, label: string, pick: (r: CopyRun) => number, colour: string): Bar[] => {
    const found = run(name);
    return found === undefined ? [] : [{ label, value: pick(found), colour }];
  };
  const throughput = [
    ...bar('tool-first', 'mastodon-s3-sync', (r) => r.megabytesPerSecond, colours.tool),
    ...bar('rclone-first', 'rclone', (r) => r.megabytesPerSecond, colours.rclone),
    ...bar('bare', 'bare SDK loop', (r) => r.megabytesPerSecond, colours.bare),
    ...bar('lean', 'node:http loop', (r) => r.megabytesPerSecond, colours.other),
  ];
  const rerun = [
    ...bar('tool-rerun', 'mastodon-s3-sync', (r) => r.seconds, colours.tool),
    ...bar('rclone-rerun', 'rclone', (r) => r.seconds, colours.rclone),
  ];
  const memory = [
    ...bar('tool-first', `sync, ${results.settings.concurrency} in flight`, (r) => r.peakRssMiB, colours.tool),
    ...(results.bigObject !== undefined ? [{ label: `sync, one ${formatValue(results.bigObject.bytes / 1024 ** 3)} GiB object`, value: results.bigObject.peakRssMiB, colour: colours.tool }] : []),
    ...(results.enumeration !== undefined ? [{ label: `keys, ${results.enumeration.rows / 1e6}M rows`, value: results.enumeration.peakRssMiB, colour: colours.tool }] : []),
    ...bar('rclone-first', 'rclone', (r) => r.peakRssMiB, colours.rclone),
    ...bar('bare', 'bare SDK loop', (r) => r.peakRssMiB, colours.bare),
  ];
  const width = 1240;
  const height = 60 + 16 + Math.max(memory.length, 3) * 30 + 50;
  const passed = results.targets.filter((t) => t.pass).length;
  const body = [
    `<text x="20" y="26" font-size="16" font-weight="bold">mastodon-s3-sync vs rclone: ${results.instance.referencedKeys.toLocaleString('en-US')} objects, ${(results.instance.referencedBytes / 1e9).toFixed(2)} GB, ${results.settings.concurrency} transfers, ${results.machine.cpus} CPUs (${results.date.slice(0, 10)})</text>`,
    panel(20, 60, 400, 'First copy, MB/s (higher is better)', throughput, 'MB/s'),
    panel(430, 60, 380, 'Re-run, seconds (lower is better)', rerun, 's'),
    panel(820, 60, 410, 'Peak RSS of the process tree, MiB', memory, 'MiB', { value: 200, label: 'target 200 MiB' }),
    `<text x="20" y="${height - 12}" font-size="12" fill="#555">targets met: ${passed} of ${results.targets.length} — details in docs/benchmarks.md</text>`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
