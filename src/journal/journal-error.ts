import path from 'node:path';
import { UserError, errorCode } from '../errors.js';

/** SQLite's failures as one line the admin can act on. */
export function journalError(error: unknown, file: string, action: 'open' | 'write'): Error {
  if (error instanceof UserError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (/directory does not exist/.test(message)) {
    return new UserError(`cannot ${action} state file ${file}: directory ${path.dirname(file)} does not exist: create it, or choose another --state`, 'journal.cannot-open');
  }
  switch (code) {
    case 'SQLITE_CANTOPEN':
      return new UserError(`cannot ${action} state file ${file} (${message}): check that its directory exists and is writable, or choose another --state`, 'journal.cannot-open');
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
      return new UserError(`state file ${file} is read-only: fix its permissions, or choose another --state`, 'journal.read-only');
    case 'SQLITE_FULL':
      return new UserError(`no space left for state file ${file}: free some space, or choose another --state`, 'journal.disk-full');
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new UserError(`${file} is not a usable mastodon-s3-sync state file (${message}): move it away, or choose another --state`, 'journal.corrupt');
    case 'SQLITE_BUSY':
      return new UserError(`state file ${file} is locked by another process: is another run using it?`, 'journal.busy');
    case 'SQLITE_IOERR':
      return new UserError(`cannot ${action} state file ${file} (${message}): check the disk`, 'journal.io');
    default:
      if (code?.startsWith('SQLITE_IOERR') === true) {
        return new UserError(`cannot ${action} state file ${file} (${message}): check the disk`, 'journal.io');
      }
      return error instanceof Error ? error : new Error(message);
  }
}
