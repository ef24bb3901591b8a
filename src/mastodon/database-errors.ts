import { UserError, errorCode, messageOf, unreachableCodes } from '../errors.js';

/** Where we tried to connect, for messages; `secrets` are scrubbed from anything we print. */
export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly secrets: readonly string[];
}

/** The one-line UserError for a failed connection attempt. */
export function connectError(error: unknown, target: ConnectTarget): UserError {
  const where = `${target.host}:${target.port}`;
  const detail = scrub(messageOf(error), target);
  const code = errorCode(error);

  if (code === '28P01' || code === '28000') {
    return new UserError(
      `PostgreSQL at ${where} rejected user "${scrub(target.user, target)}": ${detail} — check [database] user and password`,
      'db.auth',
    );
  }
  if (code === '3D000') {
    return new UserError(
      `database "${scrub(target.database, target)}" does not exist on PostgreSQL at ${where} — check [database] name (or the database at the end of url)`,
      'db.no-database',
    );
  }
  if (/unsupported (startup parameter|options)/i.test(detail)) {
    // PgBouncer refuses the `options` parameter that makes our session read-only.
    return new UserError(
      `cannot open a read-only session through ${where}: ${detail} — point [database] host/port at PostgreSQL itself, not at PgBouncer`,
      'db.pooler',
    );
  }
  if (isConnectionLoss(error)) {
    return new UserError(
      `cannot reach PostgreSQL at ${where}: ${detail} — check [database] host/port or that the server is running`,
      'db.unreachable',
    );
  }
  return new UserError(`cannot connect to PostgreSQL at ${where}: ${detail} — check the [database] settings`, 'db.connect');
}

/**
 * A failed query: the environment's problems become UserErrors, anything else
 * (a bug in our SQL) is returned unchanged.
 */
export function queryError(error: unknown, target: ConnectTarget, table: string): unknown {
  const where = `${target.host}:${target.port}`;
  const detail = scrub(messageOf(error), target);
  const code = errorCode(error);
  if (code === '42501') {
    return new UserError(
      `PostgreSQL user "${scrub(target.user, target)}" may not read "${table}": ${detail} — grant it SELECT on the Mastodon tables`,
      'db.permission',
    );
  }
  if (code === '57014') {
    return new UserError(
      `a query on "${table}" was cancelled: ${detail} — retry with a smaller batch size, or check the server's load`,
      'db.timeout',
    );
  }
  if (isConnectionLoss(error)) {
    return new UserError(
      `lost the connection to PostgreSQL at ${where}: ${detail} — check that the server is running, then resume`,
      'db.unreachable',
    );
  }
  return error;
}

function isConnectionLoss(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (unreachableCodes.has(code) || code.startsWith('08') || code === '57P01')) return true;
  // node-postgres reports its own connect timeout and dropped sockets by message only.
  return /timeout expired|connection timeout|Connection terminated|not queryable/i.test(messageOf(error));
}

/** Removes the password (raw and URL-encoded) from a message, whatever put it there. */
export function scrub(text: string, target: Pick<ConnectTarget, 'secrets'>): string {
  let result = text;
  for (const secret of target.secrets) {
    if (secret === '') continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) result = result.replaceAll(form, '***');
  }
  return result;
}
