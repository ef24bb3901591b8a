import path from 'node:path';
import { InvalidKeyError } from '../errors.js';
import { errorCode } from '../../errors.js';

/** Temporary files of unfinished writes start with this; list() never shows them and keys may not use it. */
export const partialFilePrefix = '.mss-partial-';

/**
 * The file path of `key` under `base`. Keys are '/'-separated and relative;
 * anything that could leave `base` ('..', absolute paths) or that a directory
 * cannot represent (empty segments, as in 'a//b' or 'a/') is refused.
 */
export function keyPath(base: string, key: string): string {
  if (key === '') throw new InvalidKeyError(key, 'empty');
  return path.join(base, ...keySegments(key, key));
}

/** The directory a listing of `prefix` starts in: the prefix up to its last '/'. */
export function listingStart(base: string, prefix: string): { directory: string; relative: string } {
  const relative = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  if (relative === '') return { directory: base, relative };
  return { directory: path.join(base, ...keySegments(relative.slice(0, -1), prefix)), relative };
}

function keySegments(relativePath: string, key: string): string[] {
  if (relativePath.includes('\0')) throw new InvalidKeyError(key, 'contains a NUL byte');
  if (relativePath.startsWith('/') || path.isAbsolute(relativePath)) throw new InvalidKeyError(key, 'is absolute');
  const segments = relativePath.split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') throw new InvalidKeyError(key, `contains a "${segment}" segment`);
    if (segment === '') throw new InvalidKeyError(key, 'contains an empty path segment');
    if (segment.startsWith(partialFilePrefix)) throw new InvalidKeyError(key, `uses the reserved name prefix ${partialFilePrefix}`);
  }
  return segments;
}

/** The error of a path no file is at, so no key is stored there. ENOTDIR: a component is a file; EISDIR: the key names a folder. */
export function isAbsentPath(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
