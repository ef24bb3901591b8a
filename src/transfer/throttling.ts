import { errorFields, errorName, httpStatus } from '../errors.js';
import { throttlingNames } from '../storage/errors.js';

/**
 * The storage asked us to slow down: 503 (S3's SlowDown, B2's "no tomes
 * available"), 429, or a throttling error name. Other transient failures
 * (500, resets, timeouts) are retried without lowering the concurrency.
 */
export function isThrottlingError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const status = httpStatus(error);
  if (status === 503 || status === 429) return true;
  const name = errorName(error);
  if (name !== undefined && throttlingNames.has(name)) return true;
  const { cause } = errorFields(error);
  return cause !== undefined && cause !== error && isThrottlingError(cause, depth + 1);
}
