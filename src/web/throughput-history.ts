import { objectsDone, type JobCounters } from '../stats/run-stats.js';

/** A job's throughput over one tick. `seq` orders samples across jobs so a client can ask for what it has not seen. */
export interface ThroughputSample {
  seq: number;
  job: string;
  /** End of the tick, in milliseconds since the epoch. */
  time: number;
  bytesPerSecond: number;
  objectsPerSecond: number;
}

interface LastReading {
  time: number;
  bytes: number;
  done: number;
  finished: boolean;
}

/**
 * Rates between successive readings of the counters, per job, for the page's charts. Kept on the
 * server so that a page opened an hour into the run still draws the last minutes.
 */
export class ThroughputHistory {
  readonly #samples: ThroughputSample[] = [];
  readonly #last = new Map<string, LastReading>();
  #seq = 0;

  /** @param capacity samples kept for all jobs together (10 minutes of one job at one a second by default). */
  constructor(readonly capacity = 600 * 4) {}

  record(jobs: readonly Readonly<JobCounters>[], now: number): void {
    for (const counters of jobs) {
      const reading: LastReading = { time: now, bytes: counters.bytes, done: objectsDone(counters), finished: counters.finishedAt !== undefined };
      // A job first seen now is measured from its start: a short job still gets its one sample.
      const last = this.#last.get(counters.job) ?? { time: counters.startedAt, bytes: 0, done: 0, finished: false };
      this.#last.set(counters.job, reading);
      // A finished job gets one last sample, then its chart stops instead of trailing zeros.
      if (last.finished) continue;
      const seconds = (now - last.time) / 1000;
      if (seconds <= 0) continue;
      this.#samples.push({
        seq: ++this.#seq,
        job: counters.job,
        time: now,
        bytesPerSecond: Math.max(0, reading.bytes - last.bytes) / seconds,
        objectsPerSecond: Math.max(0, reading.done - last.done) / seconds,
      });
    }
    if (this.#samples.length > this.capacity) this.#samples.splice(0, this.#samples.length - this.capacity);
  }

  /** Samples newer than `seq`, oldest first. */
  since(seq: number): ThroughputSample[] {
    const first = this.#samples.findIndex((sample) => sample.seq > seq);
    return first === -1 ? [] : this.#samples.slice(first);
  }

  get lastSeq(): number {
    return this.#seq;
  }
}
