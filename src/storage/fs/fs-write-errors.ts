import path from 'node:path';
import { errorCode } from '../../errors.js';
import { StorageWriteError } from '../errors.js';
import { danglingLinkOnPath, describeDanglingLink } from './dangling-links.js';

const codes: Record<string, { code: string; hint: string }> = {
  ENOSPC: { code: 'storage.disk-full', hint: 'no space left on the device' },
  EDQUOT: { code: 'storage.disk-full', hint: 'disk quota exceeded' },
  EROFS: { code: 'storage.read-only', hint: 'the file system is mounted read-only' },
  EACCES: { code: 'storage.permission-denied', hint: 'permission denied' },
  EPERM: { code: 'storage.permission-denied', hint: 'operation not permitted' },
  ENOTDIR: { code: 'storage.path-conflict', hint: 'a file stands where a directory is needed' },
  EEXIST: { code: 'storage.path-conflict', hint: 'a file stands where a directory is needed' },
  EISDIR: { code: 'storage.path-conflict', hint: 'a directory stands where the file should go' },
  // A file name of more than 255 bytes (most file systems' limit), which an S3 key may have.
  ENAMETOOLONG: { code: 'storage.name-too-long', hint: "a file name longer than the destination's file system takes" },
};

/**
 * A failed file-system call of a write, as a StorageWriteError naming the path
 * and the errno; errors that are not the file system's pass through unchanged.
 */
export function writeFailure(error: unknown, filePath: string): unknown {
  const { code: errno, path: failedPath } = typeof error === 'object' && error !== null ? (error as { code?: unknown; path?: unknown }) : {};
  if (typeof errno !== 'string' || !/^E[A-Z]+$/.test(errno)) return error;
  const known = codes[errno];
  const hint = known?.hint ?? 'file system error';
  // The object's path may lie levels below the directory to fix: the call that failed names the entry it tried to create in it.
  const where = known?.code === 'storage.permission-denied' ? ` in ${path.dirname(typeof failedPath === 'string' ? failedPath : filePath)}` : '';
  return new StorageWriteError(`${errno}: ${hint}${where} writing ${filePath}`, known?.code ?? 'storage.write-failed', { cause: error });
}

/**
 * A write whose folder lies through a link to nothing (a disk unmounted, below the levels the
 * storage's check looks at or since it ran): mkdir answers EEXIST, which alone would blame a file.
 */
export async function danglingLinkFailure(error: unknown, directory: string, filePath: string): Promise<StorageWriteError | undefined> {
  const errno = errorCode(error);
  if (errno !== 'EEXIST' && errno !== 'ENOENT') return undefined;
  const dangling = await danglingLinkOnPath(directory);
  if (dangling === undefined) return undefined;
  return new StorageWriteError(
    `${errno}: ${describeDanglingLink(dangling)} writing ${filePath}`,
    'storage.dangling-link',
    { cause: error },
  );
}
