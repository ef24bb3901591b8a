import { connectionFailureCodes, errorCode, errorFields, errorName, httpStatus, messageOf } from '../errors.js';
import { TransientStorageError } from './storage.js';

/**
 * A write a destination refused for a reason retrying will not fix soon: disk
 * full, read-only file system, permission denied. `code` is stable
 * (`storage.disk-full`, `storage.read-only`, `storage.permission-denied`,
 * `storage.write-failed`) so that callers can stop a run early on it.
 */
export class StorageWriteError extends Error {
  override readonly name = 'StorageWriteError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A key that would leave the storage's root ('..', absolute, empty segments): a bug or a hostile database row. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid key ${JSON.stringify(key)}: ${reason}`);
  }
}

/**
 * The body delivered a different number of bytes than `WriteOptions.size`
 * announced. The write is abandoned before anything becomes visible; a short
 * source body is usually a dropped connection, so another try may succeed.
 */
export class BodySizeMismatchError extends Error {
  override readonly name = 'BodySizeMismatchError';
  readonly transient = true;
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(`body had ${received > expected ? 'more than' : 'only'} ${received} of the ${expected} bytes announced`);
  }
}

// 501: the server lacks what the request asks for (an ACL, a storage class); no later try will have it.
const transientStatus = (status: number): boolean => (status >= 500 && status !== 501) || status === 429 || status === 408;

/** The error names of a storage asking us to slow down (transfer/throttling.ts lowers the concurrency on them). */
export const throttlingNames: ReadonlySet<string> = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'RequestThrottled',
]);

// A throttle is retried whatever its status; so are timeouts and 500s, without slowing down.
const transientNames = new Set([...throttlingNames, 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'InternalError']);

// A connection or stream broken midway may also work on another try.
const transientCodes = new Set([...connectionFailureCodes, 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Whether another try of the same operation may succeed: throttling, 5xx,
 * dropped or timed-out connections. 4xx answers (403 denied, 404 missing, 400
 * bad request) and local write failures (disk full) are permanent.
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof TransientStorageError) return true;
  if (error instanceof StorageWriteError || error instanceof InvalidKeyError) return false;
  const fields = errorFields(error);
  if (fields.transient === true) return true;
  const status = httpStatus(error);
  const name = errorName(error);
  // The error's name first: S3 answers a body it stopped waiting for with 400 RequestTimeout, which another try cures.
  if (name !== undefined && transientNames.has(name)) return true;
  // Otherwise an HTTP answer decides on its own: the server told us what kind of failure it was.
  if (status !== undefined && status >= 400) return transientStatus(status);
  const code = errorCode(error);
  if (code !== undefined && transientCodes.has(code)) return true;
  if (typeof fields.message === 'string' && /socket hang up/i.test(fields.message)) return true;
  if (typeof fields.$retryable === 'object' && fields.$retryable !== null) return true;
  // Aborts and stream errors often wrap the network error that caused them.
  if (fields.cause !== undefined && fields.cause !== error) return isTransientError(fields.cause);
  return false;
}

const statusNames: Record<number, string> = {
  301: 'PermanentRedirect',
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** A short, secret-free reason for reports: `503 SlowDown`, `ECONNRESET`, `TimeoutError: ...`. */
export function describeStorageError(error: unknown): string {
  const status = httpStatus(error);
  const name = errorName(error);
  const code = errorCode(error);
  if (status !== undefined && status >= 300) {
    // HEAD answers have no body, so the SDK can only name them after the status ("NotFound", "Unknown", "403").
    const label = name !== undefined && !/^(Unknown|UnknownError|Error|\d+)$/.test(name) ? name : (statusNames[status] ?? code ?? '');
    return `${status} ${label}`.trim();
  }
  if (error instanceof StorageWriteError) return error.message;
  if (code !== undefined && /^E[A-Z_]+$/.test(code)) return code;
  if (name === 'TimeoutError') return `TimeoutError: ${messageOf(error)}`;
  return oneLine(messageOf(error));
}

function oneLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
