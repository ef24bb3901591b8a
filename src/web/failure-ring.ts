import type { FailureRecord } from './dashboard-source.js';

/** The last `capacity` failures, so that a run with a million broken keys keeps a flat memory. */
export class FailureRing {
  readonly #records: FailureRecord[] = [];
  /** Where the next record goes once the ring is full. */
  #next = 0;

  constructor(readonly capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
  }

  push(record: FailureRecord): void {
    if (this.#records.length < this.capacity) {
      this.#records.push(record);
      return;
    }
    this.#records[this.#next] = record;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Newest first. */
  latest(filter: { job?: string; limit: number }): FailureRecord[] {
    const result: FailureRecord[] = [];
    const count = this.#records.length;
    for (let step = 1; step <= count && result.length < filter.limit; step += 1) {
      const record = this.#records[(this.#next - step + count) % count]!;
      if (filter.job === undefined || record.job === filter.job) result.push(record);
    }
    return result;
  }
}
