/**
 * Two roots, as the CLI sees them: a UserError is something the admin can fix
 * (config, credentials, reachability) and prints as one line with no stack;
 * anything else is a bug in this tool.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    /** Stable machine-readable code, e.g. `config.unknown-key`, `db.unreachable`. */
    readonly code: string,
    /** The failure behind it, for a caller deciding whether to try again; never printed. */
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Exit codes of the CLI. */
export const ExitCode = {
  ok: 0,
  someObjectsFailed: 1,
  userError: 2,
  internalError: 3,
  interrupted: 130,
} as const;

/** The message of an unknown thrown value, never its stack. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * The fields this tool reads off a thrown value, none of them trusted: Node's errno `code` (and
 * SQLite's, PostgreSQL's SQLSTATE), the AWS SDK's `name`, `$metadata` and `$retryable`, our own
 * `transient`, and a wrapped `cause`.
 */
export interface ErrorFields {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly transient?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly cause?: unknown;
}

/** The fields of a thrown value; none for a thrown string, number or null. */
export function errorFields(error: unknown): ErrorFields {
  return typeof error === 'object' && error !== null ? (error as ErrorFields) : {};
}

/** An error's `code` when it is a string: `ECONNRESET`, `SQLITE_BUSY`, `28P01`, `storage.disk-full`. */
export function errorCode(error: unknown): string | undefined {
  const { code } = errorFields(error);
  return typeof code === 'string' ? code : undefined;
}

/** An error's `name` when it is a string: the AWS SDK names its errors after S3's codes (`SlowDown`, `NoSuchBucket`). */
export function errorName(error: unknown): string | undefined {
  const { name } = errorFields(error);
  return typeof name === 'string' ? name : undefined;
}

/** The HTTP status of an AWS SDK error (or one shaped like it), when the server answered at all. */
export function httpStatus(error: unknown): number | undefined {
  const status = errorFields(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A connection that could not be made or was lost: the network or the server failed, not the request.
 * Shared by the storages' retries and reachability checks and the database's connect errors.
 */
export const connectionFailureCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Nothing could be reached: a connection failure, or a name that does not resolve (which no retry cures). */
export const unreachableCodes: ReadonlySet<string> = new Set([...connectionFailureCodes, 'ENOTFOUND']);
