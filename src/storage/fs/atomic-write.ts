import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { danglingLinkFailure, writeFailure } from './fs-write-errors.js';
import { makeDirectory } from './make-directory.js';
import { partialFileName } from './partial-files.js';

/**
 * Streams `body` into a temporary file beside `filePath`, flushes it to disk,
 * then renames it over `filePath`. A reader sees the old file or the whole new
 * one, never a part; on any failure (source error, disk full, read-only) the
 * temporary file is removed. Errors of the source stream are rethrown as they
 * are (they may be worth a retry), file-system errors as StorageWriteError.
 *
 * The directory itself is not fsynced after the rename: a crash may lose the
 * rename, and the next run then simply copies the object again.
 */
export async function atomicWrite(filePath: string, body: Readable): Promise<void> {
  const directory = path.dirname(filePath);
  const temporary = path.join(directory, partialFileName());
  let handle: FileHandle | undefined;
  try {
    try {
      await makeDirectory(directory);
      // As Paperclip writes Mastodon's own files: 0666 less the umask (0644 under 022, 0664 under 002).
      handle = await open(temporary, 'wx', 0o666);
    } catch (error) {
      throw (await danglingLinkFailure(error, directory, filePath)) ?? writeFailure(error, filePath);
    }
    await streamInto(body, handle, filePath);
    try {
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temporary, filePath);
    } catch (error) {
      throw writeFailure(error, filePath);
    }
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Plain awaited writes rather than pipeline(): a failed read is the source's
 * error (passed on as is, it may be worth a retry) and a failed write is the
 * file system's (wrapped), with no guessing which side broke first. Leaving
 * the loop early destroys `body`.
 */
async function streamInto(body: Readable, handle: FileHandle, filePath: string): Promise<void> {
  for await (const chunk of body) {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    try {
      for (let offset = 0; offset < data.length; ) {
        offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
      }
    } catch (error) {
      throw writeFailure(error, filePath);
    }
  }
}
