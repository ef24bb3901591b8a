import { expectedKeys, objectsDone, type JobCounters } from '../stats/run-stats.js';

/** One job as the page and `/api/jobs` show it: the raw counters plus what the progress bar derives. */
export interface JobView {
  job: string;
  state: 'running' | 'finished';
  rows: number;
  rowsTotal: number | null;
  keys: number;
  /** Objects finished, whatever their outcome. */
  done: number;
  /** Objects the whole job will have, extrapolated from the rows read so far. */
  expected: number;
  /** 0–100, rounded down so that 100 means every expected object is done. */
  percent: number;
  copied: number;
  skipped: number;
  missing: number;
  absent: number;
  failed: number;
  bytes: number;
  skippedBytes: number;
  inFlight: number;
  startedAt: number;
  finishedAt: number | null;
  elapsedSeconds: number;
  /** Averages over the whole job, as the terminal progress bar shows them. */
  bytesPerSecond: number;
  objectsPerSecond: number;
  /** Null when finished or when no object has finished yet. */
  etaSeconds: number | null;
}

export function jobView(counters: Readonly<JobCounters>, now: number): JobView {
  const done = objectsDone(counters);
  // The extrapolation can fall short of what is already done; never show more than 100%.
  const expected = Math.max(expectedKeys(counters), done);
  const finished = counters.finishedAt !== undefined;
  const elapsedSeconds = Math.max(0, ((counters.finishedAt ?? now) - counters.startedAt) / 1000);
  const objectsPerSecond = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  let percent: number;
  if (expected > 0) percent = Math.floor((done * 100) / expected);
  else percent = finished ? 100 : 0;
  return {
    job: counters.job,
    state: finished ? 'finished' : 'running',
    rows: counters.rows,
    rowsTotal: counters.rowsTotal ?? null,
    keys: counters.keys,
    done,
    expected,
    percent,
    copied: counters.copied,
    skipped: counters.skipped,
    missing: counters.missing,
    absent: counters.absentStyle,
    failed: counters.failed,
    bytes: counters.bytes,
    skippedBytes: counters.skippedBytes,
    inFlight: counters.inFlight,
    startedAt: counters.startedAt,
    finishedAt: counters.finishedAt ?? null,
    elapsedSeconds,
    bytesPerSecond: elapsedSeconds > 0 ? counters.bytes / elapsedSeconds : 0,
    objectsPerSecond,
    etaSeconds: !finished && objectsPerSecond > 0 ? Math.max(0, expected - done) / objectsPerSecond : null,
  };
}
