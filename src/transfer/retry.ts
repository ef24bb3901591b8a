import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 20_000 };

/** Exponential backoff with full jitter, so that throttled workers do not retry in lock step. */
function backoffDelay(policy: RetryPolicy, failedAttempts: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.round(Math.random() * ceiling);
}

export interface RetryResult<T> {
  value: T;
  attempts: number;
}

export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempts`, { cause: lastError });
  }
}

/**
 * Runs `operation` until it succeeds, fails with an error `isTransient` rejects,
 * or the attempts run out (then throws RetriesExhausted). `onRetry` hears of
 * each transient failure, e.g. to slow the whole run down.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean,
  onRetry?: (error: unknown, attempt: number) => void,
  /** Once aborted, no further attempt starts: the last error is thrown as it is. */
  signal?: AbortSignal,
): Promise<RetryResult<T>> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { value: await operation(attempt), attempts: attempt };
    } catch (error) {
      if (!isTransient(error) || signal?.aborted === true) throw error;
      if (attempt >= policy.attempts) throw new RetriesExhausted(attempt, error);
      onRetry?.(error, attempt);
      const slept = await sleep(backoffDelay(policy, attempt), true, signal === undefined ? undefined : { signal }).catch(() => false);
      if (!slept) throw error;
    }
  }
}
