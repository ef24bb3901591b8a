import { lookup } from 'mime-types';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { writtenBody } from '../written-body.js';
import { KeyPrefix } from '../key-prefix.js';
import type { FsStorageOptions } from '../storage-options.js';
import type { ListOptions, ObjectInfo, ReadResult, Storage, StorageCapabilities, WriteOptions } from '../storage.js';
import { atomicWrite } from './atomic-write.js';
import { danglingLinkOnPath, describeDanglingLink } from './dangling-links.js';
import { checkReadable, checkWritable, foreignOwner, type ForeignOwner } from './fs-check.js';
import { isAbsentPath, keyPath, listingStart } from './fs-keys.js';
import { walkFiles, type WalkOptions } from './fs-walk.js';
import { removeIfAbandoned } from './partial-files.js';

/**
 * A directory laid out like Mastodon's public/system: key `a/b/c.png` is the
 * file `<root>/[prefix/]a/b/c.png`. A directory keeps no metadata, so the
 * content type is derived from the extension, as a web server would.
 */
export class FsStorage implements Storage {
  readonly description: string;
  readonly capabilities: StorageCapabilities = { keepsMetadata: false, acls: false };
  readonly #root: string;
  /** root plus prefix: where keys start. */
  readonly #base: string;
  /** The bodies of writes in flight, each with its settling, so that close() can end them (and their temporary files). */
  readonly #writing = new Map<Readable, Promise<unknown>>();
  /** What a listing does with the temporary files it passes: nothing, unless this is a destination being written. */
  readonly #walkOptions: WalkOptions;
  readonly #reportForeignOwner: ((owner: ForeignOwner) => void) | undefined;

  constructor(options: FsStorageOptions) {
    this.#root = path.resolve(options.root);
    const prefix = new KeyPrefix(options.prefix).value;
    this.#base = prefix === '' ? this.#root : keyPath(this.#root, prefix.slice(0, -1));
    this.description = `directory ${this.#base}`;
    this.#reportForeignOwner = options.foreignOwner;
    const report = options.removeAbandonedPartials;
    this.#walkOptions =
      report === undefined
        ? {}
        : {
            onPartial: async (file) => {
              const removed = await removeIfAbandoned(file);
              if (removed !== undefined) report(removed);
            },
          };
  }

  async check(mode: 'read' | 'write'): Promise<void> {
    if (mode === 'read') {
      await checkReadable(this.#root, this.#base);
      return;
    }
    await checkWritable(this.#root, this.#base);
    const owner = this.#reportForeignOwner === undefined ? undefined : await foreignOwner(this.#root);
    if (owner !== undefined) this.#reportForeignOwner?.(owner);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const filePath = keyPath(this.#base, key);
    try {
      const info = await stat(filePath);
      return info.isFile() ? fileInfo(key, info.size) : undefined;
    } catch (error) {
      return absent(error, filePath);
    }
  }

  async read(key: string): Promise<ReadResult | undefined> {
    const filePath = keyPath(this.#base, key);
    let handle;
    try {
      // Open first, then stat the open file: the size always belongs to the bytes being read.
      handle = await open(filePath, 'r');
    } catch (error) {
      return absent(error, filePath);
    }
    const info = await handle.stat().catch(async (error: unknown) => {
      await handle.close();
      throw error;
    });
    if (!info.isFile()) {
      await handle.close();
      return undefined;
    }
    return { info: fileInfo(key, info.size), body: handle.createReadStream() };
  }

  async write(key: string, body: Readable, options: WriteOptions): Promise<void> {
    const filePath = keyPath(this.#base, key);
    const checked = writtenBody(body, options.size, options.onBytes);
    const written = atomicWrite(filePath, checked);
    this.#writing.set(checked, written.catch(() => undefined));
    try {
      await written;
    } catch (error) {
      checked.destroy();
      throw error;
    } finally {
      this.#writing.delete(checked);
    }
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const start = listingStart(this.#base, prefix);
    const { startAfter } = options;
    for await (const file of walkFiles(start.directory, start.relative, this.#walkOptions)) {
      if (file.key.startsWith(prefix) && (startAfter === undefined || file.key > startAfter)) yield fileInfo(file.key, file.size);
    }
  }

  /**
   * Writes still in flight (a run abandoning them) fail here, as a broken
   * source would fail them, and so remove their temporary files: the process
   * exits soon after, and would leave them in the tree for good.
   */
  async close(): Promise<void> {
    // Without an error: a caller's body may have no error listener, and its reader sees a premature close anyway.
    for (const body of this.#writing.keys()) body.destroy();
    await Promise.all(this.#writing.values());
  }
}

function fileInfo(key: string, size: number): ObjectInfo {
  const contentType = lookup(key);
  return { key, size, ...(contentType !== false ? { contentType } : {}) };
}

/**
 * Undefined for a file that is not there; a failure when it may only be out of reach, behind a link
 * to nothing (a disk not mounted): "missing" would be recorded as settled, and never asked again.
 */
async function absent(error: unknown, filePath: string): Promise<undefined> {
  if (!isAbsentPath(error)) throw error;
  const dangling = await danglingLinkOnPath(path.dirname(filePath));
  if (dangling !== undefined) throw new Error(describeDanglingLink(dangling), { cause: error });
  return undefined;
}
