const throttlingNames = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'RequestThrottled',
]);

interface Fields {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * The storage asked us to slow down: 503 (S3's SlowDown, B2's "no tomes
 * available"), 429, or a throttling error name. Other transient failures
 * (500, resets, timeouts) are retried without lowering the concurrency.
 */
export function isThrottlingError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const fields = error as Fields;
  const status = fields.$metadata?.httpStatusCode;
  if (status === 503 || status === 429) return true;
  if (typeof fields.name === 'string' && throttlingNames.has(fields.name)) return true;
  return fields.cause !== undefined && fields.cause !== error && isThrottlingError(fields.cause, depth + 1);
}
