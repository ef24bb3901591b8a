import type { ObjectEvent } from '../stats/run-stats.js';

/**
 * Absences held past this many, while nothing has been found, are not held but dropped: the next run asks about them
 * again. A source that holds nothing would otherwise hold every key of a ten-million-object instance in the heap.
 */
const heldAbsencesCap = 50_000;

/**
 * The journal's writer for one run. `missing` and `absent-style` are settled outcomes (the next run asks no storage
 * about them), so they reach the journal only once the run has found an object in [source]: one that holds none (a
 * disk not mounted at its mount point, a wrong bucket or prefix) must not settle every key as missing, to be skipped
 * after the admin has fixed it. They are held in memory, never in the file: a crash before the first object is found
 * loses them, and that only means they are asked again.
 */
export class HeldAbsences {
  readonly #record: ((event: ObjectEvent) => void) | undefined;
  #found = false;
  #absent = 0;
  readonly #held: ObjectEvent[] = [];

  /** `record` undefined: a run that writes no journal (dry runs, --no-state), which still learns whether [source] held anything. */
  constructor(record: ((event: ObjectEvent) => void) | undefined) {
    this.#record = record;
  }

  outcome(event: ObjectEvent): void {
    const absence = event.outcome === 'missing' || event.outcome === 'absent-style';
    if (!this.#found && absence) {
      this.#absent += 1;
      if (this.#record !== undefined && this.#held.length < heldAbsencesCap) this.#held.push(event);
      return;
    }
    // A skip the destination alone answered says nothing of [source].
    if (!this.#found && (event.outcome === 'copied' || (event.outcome === 'skipped' && event.notInSource !== true))) {
      this.#found = true;
      for (const held of this.#held.splice(0)) this.#record?.(held);
    }
    this.#record?.(event);
  }

  /** The objects [source] lacked when it held none of those asked about (their outcomes were never recorded); undefined otherwise. */
  get noneFound(): number | undefined {
    return this.#found || this.#absent === 0 ? undefined : this.#absent;
  }
}
