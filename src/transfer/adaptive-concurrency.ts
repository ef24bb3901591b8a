export interface AdaptiveConcurrencyOptions {
  /** The ceiling: the configured concurrency. */
  max: number;
  /**
   * After a decrease, further throttling signals are ignored this long: the
   * requests already in flight when the storage pushed back will report it too,
   * and one push-back should halve the rate once, not once per request.
   * @defaultValue 1000
   */
  cooldownMs?: number;
  /** Hears every change of the limit. */
  onChange?: (limit: number, reason: 'throttled' | 'recovered') => void;
  now?: () => number;
}

/**
 * AIMD for storage requests, as TCP does for packets: each throttling answer
 * (503 SlowDown, 429) halves the number of transfers allowed to run at once
 * (never below 1); every `limit` successes in a row raise it by one again, up
 * to `max`. Transfers wait for a permit before each attempt, not during their
 * backoff, so a throttled run slows down as a whole instead of every worker
 * hammering the storage on its own schedule.
 */
export class AdaptiveConcurrency {
  readonly max: number;
  #limit: number;
  #inFlight = 0;
  #successes = 0;
  #lastDecrease = -Infinity;
  readonly #waiters: (() => void)[] = [];
  readonly #cooldownMs: number;
  readonly #onChange: AdaptiveConcurrencyOptions['onChange'];
  readonly #now: () => number;

  constructor(options: AdaptiveConcurrencyOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`max must be a positive integer, got ${options.max}`);
    this.max = options.max;
    this.#limit = options.max;
    this.#cooldownMs = options.cooldownMs ?? 1000;
    this.#onChange = options.onChange;
    this.#now = options.now ?? Date.now;
  }

  /** Transfers currently allowed at once. */
  get limit(): number {
    return this.#limit;
  }

  /** Runs `operation` once a permit is free, and gives it back afterwards. */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await operation();
    } finally {
      this.#release();
    }
  }

  /** A throttling answer: halve the limit, at most once per cooldown. */
  throttled(): void {
    this.#successes = 0;
    const now = this.#now();
    if (now - this.#lastDecrease < this.#cooldownMs) return;
    this.#lastDecrease = now;
    const next = Math.max(1, Math.floor(this.#limit / 2));
    if (next === this.#limit) return;
    this.#limit = next;
    this.#onChange?.(next, 'throttled');
  }

  /** A request that went through: after `limit` in a row, allow one more. */
  succeeded(): void {
    if (this.#limit >= this.max) return;
    this.#successes += 1;
    if (this.#successes < this.#limit) return;
    this.#successes = 0;
    this.#limit += 1;
    this.#onChange?.(this.#limit, 'recovered');
    this.#wake();
  }

  async #acquire(): Promise<void> {
    if (this.#inFlight < this.#limit && this.#waiters.length === 0) {
      this.#inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    this.#inFlight -= 1;
    this.#wake();
  }

  /** Hands permits to waiters, in arrival order, while the limit allows. */
  #wake(): void {
    while (this.#inFlight < this.#limit && this.#waiters.length > 0) {
      this.#inFlight += 1;
      this.#waiters.shift()!();
    }
  }
}
