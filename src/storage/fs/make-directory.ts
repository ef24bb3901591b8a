import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '../../errors.js';

/**
 * `mkdir -p`, failing with the real cause. Node's recursive mkdir reports some
 * failures misleadingly (ENOENT on a read-only file system), so when it fails
 * the path is retried one level at a time to surface EROFS, EACCES, ENOTDIR...
 */
export async function makeDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
  } catch {
    await mkdirStepwise(directory);
  }
}

async function mkdirStepwise(directory: string): Promise<void> {
  const parent = path.dirname(directory);
  if (parent !== directory && !(await isDirectory(parent))) await mkdirStepwise(parent);
  try {
    await mkdir(directory);
  } catch (error) {
    if (errorCode(error) === 'EEXIST' && (await isDirectory(directory))) return;
    throw error;
  }
}

async function isDirectory(directory: string): Promise<boolean> {
  return stat(directory).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
