import { UserError } from '../errors.js';

// commander's parsers live apart from the commands' context: main.ts needs them for every
// invocation, and must not pull in the database, storage and logging libraries to get them.

/** A day: longer than any transfer should take to finish, and well within what a timer can wait (24.8 days). */
export const maxGraceSeconds = 86_400;

/** What sync's and worker's --grace-period default to: time for most transfers in flight to finish. */
export const defaultGraceSeconds = 30;

/** Past 2^53 a number no longer holds every whole value, and the database layer refuses it as a bug would. */
export function parsePositiveInteger(flag: string, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed <= 0 || parsed > max) {
      throw new UserError(`${flag} must be a whole number greater than 0 (at most ${max}), not "${value}"`, 'cli.invalid-option');
    }
    return parsed;
  };
}

export function parsePort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new UserError(`--ui-port must be a port number (0-65535), not "${value}"`, 'cli.invalid-option');
  return parsed;
}
