import { EventEmitter } from 'node:events';

/** What happened to one object. */
export type Outcome =
  /** Written to the destination (or, in a dry run, would be). */
  | 'copied'
  /** The destination already holds it with the same size (and ETag where comparable). */
  | 'skipped'
  /** An original the database references is in neither `cache/` variant of the source. */
  | 'missing'
  /** A derived style (small, static, @2x...) is absent from the source: Mastodon may never have made it. */
  | 'absent-style'
  /** Gave up after retries, or a permanent error. */
  | 'failed';

export const outcomes: readonly Outcome[] = ['copied', 'skipped', 'missing', 'absent-style', 'failed'];

export interface JobCounters {
  job: string;
  rowsTotal: number | undefined;
  rows: number;
  keys: number;
  copied: number;
  skipped: number;
  missing: number;
  absentStyle: number;
  /** Failed and not retried since. */
  failed: number;
  /** Failed objects put back in the queue for another try (`enqueue --retry-failed`), no longer in `failed`. */
  failedRetried?: number;
  /** Bytes written to the destination (or that would be, in a dry run). */
  bytes: number;
  /** Bytes of objects the destination already had. */
  skippedBytes: number;
  inFlight: number;
  /** Objects settled by the journal of an earlier run, without a request to either storage. */
  fromJournal?: number;
  startedAt: number;
  finishedAt: number | undefined;
}

export interface ObjectEvent {
  job: string;
  key: string;
  outcome: Outcome;
  bytes: number;
  /** Why it failed or is missing. */
  reason?: string;
  /** The failure's stable code when it has one (`storage.disk-full`, `storage.read-only`...). */
  code?: string;
  /** Skipped because the destination has it although [source] lacks it: no sign that [source] holds anything. */
  notInSource?: true;
  /** Where it was found when that was not the computed key (the cache/ fallback). */
  foundAt?: string;
  /** The object's single-part MD5 ETag at the destination, when known (copied, skipped). */
  etag?: string;
  /** The ACL it was written with (copied, when the destination keeps one). */
  acl?: 'public-read' | 'private';
  /** Tries made (1 when the first succeeded); absent when no request was made. */
  attempts?: number;
  /** Settled from the journal of an earlier run: no request was made. */
  fromJournal?: boolean;
  /** From the start of the transfer to its outcome, waits for a permit and retries included; absent when settled from the journal. */
  durationMs?: number;
}

interface RunStatsEvents {
  object: [ObjectEvent];
  job: [JobCounters];
}

/**
 * The one place counts live. The copy engine reports into it; the progress
 * bar, the summary, the dashboard and /metrics only read it or its events.
 */
export class RunStats extends EventEmitter<RunStatsEvents> {
  readonly #jobs = new Map<string, JobCounters>();
  #throttleEvents = 0;

  startJob(job: string, rowsTotal: number | undefined): JobCounters {
    const counters: JobCounters = {
      job,
      rowsTotal,
      rows: 0,
      keys: 0,
      copied: 0,
      skipped: 0,
      missing: 0,
      absentStyle: 0,
      failed: 0,
      bytes: 0,
      skippedBytes: 0,
      inFlight: 0,
      fromJournal: 0,
      startedAt: Date.now(),
      finishedAt: undefined,
    };
    this.#jobs.set(job, counters);
    this.emit('job', counters);
    return counters;
  }

  finishJob(job: string): void {
    const counters = this.#counters(job);
    counters.finishedAt = Date.now();
    this.emit('job', counters);
  }

  rowsRead(job: string, rows: number, keys: number): void {
    const counters = this.#counters(job);
    counters.rows += rows;
    counters.keys += keys;
  }

  transferStarted(job: string): void {
    this.#counters(job).inFlight += 1;
  }

  /** A storage answered "slow down" (503 SlowDown, 429). */
  throttled(): void {
    this.#throttleEvents += 1;
  }

  /** Throttling answers so far. */
  get throttleEvents(): number {
    return this.#throttleEvents;
  }

  objectDone(event: ObjectEvent): void {
    const counters = this.#counters(event.job);
    counters.inFlight -= 1;
    if (event.fromJournal === true) counters.fromJournal = (counters.fromJournal ?? 0) + 1;
    switch (event.outcome) {
      case 'copied':
        counters.copied += 1;
        counters.bytes += event.bytes;
        break;
      case 'skipped':
        counters.skipped += 1;
        counters.skippedBytes += event.bytes;
        break;
      case 'missing':
        counters.missing += 1;
        break;
      case 'absent-style':
        counters.absentStyle += 1;
        break;
      case 'failed':
        counters.failed += 1;
        break;
    }
    this.emit('object', event);
  }

  jobs(): JobCounters[] {
    return [...this.#jobs.values()];
  }

  /** One job's counters, once it has started. */
  job(name: string): Readonly<JobCounters> | undefined {
    return this.#jobs.get(name);
  }

  get failed(): number {
    return this.jobs().reduce((sum, counters) => sum + counters.failed, 0);
  }

  #counters(job: string): JobCounters {
    const counters = this.#jobs.get(job);
    if (counters === undefined) throw new Error(`job ${job} was not started`);
    return counters;
  }
}

/** Objects finished so far, whatever their outcome. */
export function objectsDone(counters: JobCounters): number {
  return counters.copied + counters.skipped + counters.missing + counters.absentStyle + counters.failed;
}

/** Keys the whole job will have, extrapolated from the rows read so far. */
export function expectedKeys(counters: JobCounters): number {
  if (counters.rowsTotal === undefined || counters.rows === 0 || counters.rows >= counters.rowsTotal) return counters.keys;
  return Math.round((counters.keys / counters.rows) * counters.rowsTotal);
}
