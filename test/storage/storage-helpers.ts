import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectInfo, Storage } from '../../src/storage/storage.js';

export function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The object's bytes, or undefined when the storage says it is not there. */
export async function readBytes(storage: Storage, key: string): Promise<Buffer | undefined> {
  const result = await storage.read(key);
  return result === undefined ? undefined : readAll(result.body);
}

export async function listAll(storage: Storage, prefix?: string): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  for await (const info of storage.list(prefix)) found.push(info);
  return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export async function listKeys(storage: Storage, prefix?: string): Promise<string[]> {
  return (await listAll(storage, prefix)).map((info) => info.key);
}

/** Writes a buffer with its size announced, as the transfer code does. */
export async function writeBytes(storage: Storage, key: string, data: Buffer, options: { contentType?: string; cacheControl?: string; announceSize?: boolean } = {}): Promise<void> {
  const { announceSize = true, ...metadata } = options;
  await storage.write(key, Readable.from([data]), { ...metadata, ...(announceSize ? { size: data.length } : {}) });
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A stream that delivers `bytesBeforeError` random bytes, then fails with `error`, as a dropped source connection would. */
export function failingStream(bytesBeforeError: number, error: Error, chunkSize = 64 * 1024): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytesBeforeError) {
        this.destroy(error);
        return;
      }
      const size = Math.min(chunkSize, bytesBeforeError - sent);
      sent += size;
      this.push(randomBytes(size));
    },
  });
}

/**
 * `size` pseudo-random bytes generated on demand (never held in memory at once),
 * with the MD5 of what was produced available once the stream has ended.
 */
export function generatedStream(size: number, chunkSize = 64 * 1024): { stream: Readable; md5: () => string } {
  const hash = createHash('md5');
  let produced = 0;
  let digest: string | undefined;
  const stream = new Readable({
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(chunkSize, size - produced));
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return {
    stream,
    md5: () => {
      if (produced < size) throw new Error(`only ${produced} of ${size} bytes generated so far`);
      return (digest ??= hash.digest('hex'));
    },
  };
}

/** MD5 and length of a stream, read in chunks. */
export async function hashStream(body: Readable): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: hash.digest('hex'), size };
}
