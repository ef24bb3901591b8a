import type { JobCounters, ObjectEvent } from '../stats/run-stats.js';

/** An object that did not make it across, as the dashboard lists it. */
export interface FailureRecord {
  job: string;
  key: string;
  outcome: 'failed' | 'missing';
  reason: string;
  /** When it was reported, in milliseconds since the epoch. */
  time: number;
}

/** Something the dashboard should push at once rather than at the next tick. */
export type DashboardChange =
  /** A job started or finished. */
  | { type: 'job'; job: string }
  /** One object's outcome; its `durationMs` feeds the latency histogram. */
  | { type: 'object'; event: ObjectEvent };

/**
 * What the dashboard reads: the in-process run (`runStatsSource`), or the counters of Redis-backed
 * workers. Kept small and async so that a remote source can answer each call with a round trip.
 * A source that cannot be read right now (Redis away) rejects its reads with a UserError saying
 * why; the dashboard answers 503 and tells the open pages, which keep the last counts, marked.
 */
export interface DashboardSource {
  /** Every job of the run, in start order. */
  jobs(): Promise<readonly Readonly<JobCounters>[]>;
  /** The latest failed or missing objects, newest first; of one job when `job` is set. */
  failures(filter: { job?: string; limit: number }): Promise<readonly FailureRecord[]>;
  /** Requests the storages refused for rate limiting (SlowDown, 429) so far, whichever process met them. */
  throttleEvents(): Promise<number>;
  /**
   * Its object changes carry each object's `durationMs` (the in-process run's do): /metrics then has
   * the object_seconds histogram, which it leaves out otherwise rather than show one that stays empty.
   */
  readonly timesObjects: boolean;
  /** Calls `listener` on each change; returns the function that stops it. */
  subscribe(listener: (change: DashboardChange) => void): () => void;
}
