import { counted } from '../../log.js';
import { loadStateViewConfig } from '../../config/load-config.js';
import { ExitCode, UserError } from '../../errors.js';
import type { Journal } from '../../journal/journal.js';
import type { JournalOutcome, JournalScope, KeyState, OutcomeCount } from '../../journal/journal-scope.js';
import { jobNames } from '../../mastodon/object-ref.js';
import { createStorage } from '../../storage/create-storage.js';
import type { StorageSection, Config } from '../../config/schema.js';
import { formatBytes, textTable } from '../format.js';
import { parseJobNames, type CommonOptions } from '../context.js';
import { storageOptions } from '../runtime-options.js';
import { csvField, formatOfFile, lineOutput, type LineOutput } from '../output-file.js';
import { noRunForPair, openJournal, statePath } from '../state-file.js';

export interface ReportCommandOptions extends CommonOptions {
  state?: string;
  format?: 'csv' | 'jsonl';
  output?: string;
  includeAbsent?: boolean;
}

/** Keys listed on the terminal when they are not written to a file. */
const terminalListLimit = 20;

const columns = ['job', 'copied', 'skipped', 'missing', 'absent', 'failed', 'bytes'] as const;

/** Per-job counts from the state file, and the keys that need attention (failed, missing) as CSV or JSON lines. */
export async function reportCommand(jobArguments: string[], options: ReportCommandOptions): Promise<number> {
  const jobs = parseJobNames(jobArguments);
  const { config, path: configPath } = await loadStateViewConfig({ configPath: options.config, mastodonEnvPath: options.mastodonEnv }, options.state);
  const file = statePath(options, config, configPath)!;
  const journal = await openJournal(file, 'read');
  if (journal === undefined) throw new UserError(`no state file at ${file}: run a sync first, or point --state at the file`, 'journal.missing');
  try {
    const scope = await chooseScope(journal, config);
    const counts = scope.counts().filter((count) => jobs.length === 0 || (jobs as string[]).includes(count.job));
    const outcomes: JournalOutcome[] = options.includeAbsent === true ? ['failed', 'missing', 'absent-style'] : ['failed', 'missing'];
    const entries = (): Iterable<KeyState> => filterJobs(scope.entries(outcomes), jobs);
    const lastRun = scope.runs(1)[0];

    const keysToStdout = options.output === undefined && options.format !== undefined;
    // Opened first: a path that cannot be written is the one line, with no counts printed before it.
    const output = options.output !== undefined || keysToStdout ? await lineOutput(options.output) : undefined;
    const summary = options.json === true ? `${JSON.stringify(countsRecord(counts, lastRun))}\n` : `${countsTable(counts)}\n${runLine(lastRun)}`;
    (keysToStdout ? process.stderr : process.stdout).write(summary);

    const format = options.format ?? formatOfFile(options.output) ?? 'csv';
    if (output !== undefined) {
      const written = await writeKeys(output, entries(), format);
      await output.close();
      if (options.output !== undefined) process.stderr.write(`${counted(written, 'key')} (${outcomes.join(', ')}) written to ${options.output}\n`);
    } else if (options.json !== true) {
      let shown = 0;
      let total = 0;
      for (const entry of entries()) {
        total += 1;
        if (shown < terminalListLimit) {
          process.stdout.write(`${shown === 0 ? '\n' : ''}${entry.outcome.padEnd(7)} ${entry.key}${entry.reason !== null ? `  (${entry.reason})` : ''}\n`);
          shown += 1;
        }
      }
      if (total > shown) process.stdout.write(`... and ${total - shown} more: write them all with --output FILE (--format csv|jsonl)\n`);
      if (total > 0) process.stdout.write('sync --retry-failed tries exactly these again\n');
    }
    return ExitCode.ok;
  } finally {
    journal.close();
  }
}

/** The pair the config names; without storages in the config, the file's only pair. */
async function chooseScope(journal: Journal, config: Pick<Config, 'sync'> & { source?: StorageSection; destination?: StorageSection }): Promise<JournalScope> {
  if (config.source !== undefined && config.destination !== undefined) {
    const source = createStorage(storageOptions(config.source, config));
    const destination = createStorage(storageOptions(config.destination, config));
    try {
      const scope = journal.scope(source.description, destination.description);
      if (scope === undefined) throw noRunForPair(journal.file, source, destination, 'journal.no-scope');
      return scope;
    } finally {
      await Promise.all([source.close(), destination.close()]);
    }
  }
  const scopes = journal.scopes();
  const only = scopes.length === 1 ? scopes[0] : undefined;
  if (only === undefined) {
    throw new UserError(`the config names no [source] and [destination], and the state file ${journal.file} holds ${scopes.length} pairs: add them to the config`, 'journal.which-scope');
  }
  return journal.scope(only.source, only.destination)!;
}

function* filterJobs(entries: Iterable<KeyState>, jobs: readonly string[]): Iterable<KeyState> {
  for (const entry of entries) if (jobs.length === 0 || jobs.includes(entry.job)) yield entry;
}

type Row = Record<(typeof columns)[number], string>;

function countsRows(counts: readonly OutcomeCount[]): Map<string, Record<JournalOutcome | 'bytes', number>> {
  const byJob = new Map<string, Record<JournalOutcome | 'bytes', number>>();
  // In the order sync runs and prints the jobs, not the state file's alphabetical one.
  const inJobOrder = [...counts].sort((a, b) => jobOrder(a.job) - jobOrder(b.job));
  for (const count of inJobOrder) {
    let row = byJob.get(count.job);
    if (row === undefined) byJob.set(count.job, (row = { copied: 0, skipped: 0, missing: 0, 'absent-style': 0, failed: 0, bytes: 0 }));
    row[count.outcome] += count.objects;
    if (count.outcome === 'copied' || count.outcome === 'skipped') row.bytes += count.bytes;
  }
  return byJob;
}

function jobOrder(job: string): number {
  return (jobNames as readonly string[]).indexOf(job);
}

/** One line a job, plus a total, as `sync` prints its summary. */
function countsTable(counts: readonly OutcomeCount[]): string {
  const byJob = countsRows(counts);
  const rows: Row[] = [...byJob].map(([job, row]) => ({
    job,
    copied: String(row.copied),
    skipped: String(row.skipped),
    missing: String(row.missing),
    absent: String(row['absent-style']),
    failed: String(row.failed),
    bytes: formatBytes(row.bytes),
  }));
  if (byJob.size > 1) {
    const sum = (pick: (row: Record<JournalOutcome | 'bytes', number>) => number): number => [...byJob.values()].reduce((total, row) => total + pick(row), 0);
    rows.push({
      job: 'total',
      copied: String(sum((row) => row.copied)),
      skipped: String(sum((row) => row.skipped)),
      missing: String(sum((row) => row.missing)),
      absent: String(sum((row) => row['absent-style'])),
      failed: String(sum((row) => row.failed)),
      bytes: formatBytes(sum((row) => row.bytes)),
    });
  }
  if (rows.length === 0) return 'the state file has no outcomes recorded for these jobs yet';
  return textTable(columns, rows.map((row) => columns.map((name) => row[name])));
}

function countsRecord(counts: readonly OutcomeCount[], lastRun: ReturnType<JournalScope['runs']>[number] | undefined): Record<string, unknown> {
  return {
    report: [...countsRows(counts)].map(([job, row]) => ({
      job,
      copied: row.copied,
      skipped: row.skipped,
      missing: row.missing,
      absentStyle: row['absent-style'],
      failed: row.failed,
      bytes: row.bytes,
    })),
    lastRun:
      lastRun === undefined
        ? null
        : { status: lastRun.status, kind: lastRun.kind, jobs: lastRun.jobs, startedAt: new Date(lastRun.startedAt).toISOString(), finishedAt: lastRun.finishedAt === null ? null : new Date(lastRun.finishedAt).toISOString() },
  };
}

function runLine(run: ReturnType<JournalScope['runs']>[number] | undefined): string {
  if (run === undefined) return '';
  const started = new Date(run.startedAt).toISOString();
  const status = run.status === 'running' ? 'running, or killed' : run.status;
  return `last run: ${started}, ${run.kind}, ${status} (${run.jobs.join(', ')})\n`;
}

const csvHeader = ['job', 'key', 'outcome', 'reason', 'attempts', 'updated_at'];

function keyLine(entry: KeyState, format: 'csv' | 'jsonl'): string {
  const updatedAt = new Date(entry.updatedAt).toISOString();
  if (format === 'jsonl') {
    return `${JSON.stringify({ job: entry.job, key: entry.key, outcome: entry.outcome, reason: entry.reason, attempts: entry.attempts, updatedAt })}\n`;
  }
  return `${[entry.job, entry.key, entry.outcome, entry.reason ?? '', String(entry.attempts), updatedAt].map(csvField).join(',')}\n`;
}

/** Streams the keys out, until stdout's reader has gone; returns how many were written. */
async function writeKeys(output: LineOutput, entries: Iterable<KeyState>, format: 'csv' | 'jsonl'): Promise<number> {
  let count = 0;
  if (format === 'csv' && !(await output.write(`${csvHeader.join(',')}\n`))) return count;
  for (const entry of entries) {
    if (!(await output.write(keyLine(entry, format)))) break;
    count += 1;
  }
  return count;
}
