import type { JobCounters } from '../stats/run-stats.js';
import { formatBytes, formatSeconds, textTable } from './format.js';

const columns = ['job', 'rows', 'keys', 'copied', 'skipped', 'missing', 'absent', 'failed', 'bytes', 'seconds'] as const;

/** The closing table: one line a job, plus a total. */
export function summaryTable(jobs: JobCounters[], dryRun: boolean): string {
  const rows = jobs.map((counters) => [
    counters.job,
    String(counters.rows),
    String(counters.keys),
    String(counters.copied),
    String(counters.skipped),
    String(counters.missing),
    String(counters.absentStyle),
    String(counters.failed),
    formatBytes(counters.bytes),
    formatSeconds((counters.finishedAt ?? Date.now()) - counters.startedAt),
  ]);
  const total = (pick: (counters: JobCounters) => number): number => jobs.reduce((sum, counters) => sum + pick(counters), 0);
  const started = Math.min(...jobs.map((counters) => counters.startedAt));
  const finished = Math.max(...jobs.map((counters) => counters.finishedAt ?? Date.now()));
  if (jobs.length > 1) {
    rows.push([
      'total',
      String(total((c) => c.rows)),
      String(total((c) => c.keys)),
      String(total((c) => c.copied)),
      String(total((c) => c.skipped)),
      String(total((c) => c.missing)),
      String(total((c) => c.absentStyle)),
      String(total((c) => c.failed)),
      formatBytes(total((c) => c.bytes)),
      formatSeconds(finished - started),
    ]);
  }
  const header = columns.map((name) => (dryRun && name === 'copied' ? 'would copy' : name));
  return textTable(header, rows);
}

/** The same numbers for machines (`--json`). */
export function summaryRecord(jobs: JobCounters[], dryRun: boolean): Record<string, unknown> {
  return {
    summary: jobs.map((counters) => ({
      job: counters.job,
      rows: counters.rows,
      keys: counters.keys,
      copied: counters.copied,
      skipped: counters.skipped,
      missing: counters.missing,
      absentStyle: counters.absentStyle,
      failed: counters.failed,
      bytes: counters.bytes,
      seconds: Number(formatSeconds((counters.finishedAt ?? Date.now()) - counters.startedAt)),
    })),
    dryRun,
  };
}
