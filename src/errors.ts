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
