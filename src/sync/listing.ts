import type { InventoryEntry } from '../journal/journal-scope.js';
import { jobModels } from '../mastodon/models.js';
import type { JobName } from '../mastodon/object-ref.js';
import { isTransientError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { withRetry, type RetryPolicy } from '../transfer/retry.js';

/**
 * The key prefixes under which the jobs' objects can live:
 * `<class>/<attachment>/` and, for attachments that can be cached,
 * `cache/<class>/<attachment>/`. Listing them rather than the whole storage
 * skips whatever else shares the bucket, and lets the listings run in parallel.
 */
export function jobPrefixes(jobs: readonly JobName[]): string[] {
  const prefixes: string[] = [];
  for (const job of jobs) {
    const model = jobModels[job];
    for (const attachment of model.attachments) {
      const path = `${model.classPath}/${attachment.plural}/`;
      prefixes.push(path);
      if (attachment.versioned) prefixes.push(`cache/${path}`);
    }
  }
  return [...new Set(prefixes)];
}

export interface ListingOptions {
  /** Listings running at once. @defaultValue 8 */
  parallel?: number;
  retry: RetryPolicy;
  /** Entries are handed over in batches of this size. @defaultValue 1000 */
  batchSize?: number;
  onRetry?: (error: unknown, prefix: string) => void;
}

/**
 * Lists every object under `prefixes`, several prefixes at a time (flat
 * listings: one request per 1,000 keys however deep the tree), handing the
 * entries to `sink` in batches. A listing that fails on a transient error is
 * started over (the sink must accept an entry twice). Returns the number of
 * entries listed.
 */
export async function listPrefixes(
  storage: Storage,
  prefixes: readonly string[],
  sink: (entries: InventoryEntry[], prefix: string) => void,
  options: ListingOptions,
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const queue = [...prefixes];
  let total = 0;
  const listOne = async (prefix: string): Promise<void> => {
    const { value } = await withRetry(
      async () => {
        let count = 0;
        let batch: InventoryEntry[] = [];
        for await (const info of storage.list(prefix)) {
          batch.push({ key: info.key, size: info.size, ...(info.etag !== undefined ? { etag: info.etag } : {}) });
          if (batch.length >= batchSize) {
            sink(batch, prefix);
            count += batch.length;
            batch = [];
          }
        }
        sink(batch, prefix);
        return count + batch.length;
      },
      options.retry,
      isTransientError,
      (error) => options.onRetry?.(error, prefix),
    );
    total += value;
  };
  const worker = async (): Promise<void> => {
    for (let prefix = queue.shift(); prefix !== undefined; prefix = queue.shift()) await listOne(prefix);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel ?? 8, queue.length)) }, worker));
  return total;
}

/** Sorts as S3 lists: by UTF-8 bytes (the same as code points for the ASCII keys Mastodon writes). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Greater than every key that starts with `prefix`, in S3's UTF-8 order. */
const pastPrefix = (prefix: string): string => `${prefix}\u{10FFFF}`;

/**
 * Every object in the storage: the `known` prefixes listed in parallel, and
 * whatever lies outside them in one more listing that skips each known prefix
 * (with StartAfter, on storages that list in order; elsewhere by filtering).
 * No object is listed twice.
 */
export async function listEverything(
  storage: Storage,
  known: readonly string[],
  sink: (entries: InventoryEntry[], prefix: string | undefined) => void,
  options: ListingOptions,
): Promise<number> {
  const [inside, outside] = await Promise.all([
    listPrefixes(storage, known, sink, options),
    withRetry(() => listOutside(storage, known, (entries) => sink(entries, undefined), options.batchSize ?? 1000), options.retry, isTransientError, (error) =>
      options.onRetry?.(error, '(other keys)'),
    ).then((result) => result.value),
  ]);
  return inside + outside;
}

async function listOutside(storage: Storage, known: readonly string[], sink: (entries: InventoryEntry[]) => void, batchSize: number): Promise<number> {
  const prefixes = [...known].sort(byteOrder);
  const under = (key: string): string | undefined => prefixes.find((prefix) => key.startsWith(prefix));
  let count = 0;
  let batch: InventoryEntry[] = [];
  const add = (key: string, size: number, etag: string | undefined): void => {
    batch.push({ key, size, ...(etag !== undefined ? { etag } : {}) });
    if (batch.length >= batchSize) {
      sink(batch);
      count += batch.length;
      batch = [];
    }
  };
  if (storage.capabilities.sortedListing !== true) {
    for await (const info of storage.list('')) if (under(info.key) === undefined) add(info.key, info.size, info.etag);
  } else {
    let startAfter: string | undefined;
    let restart = true;
    while (restart) {
      restart = false;
      for await (const info of storage.list('', startAfter === undefined ? {} : { startAfter })) {
        const prefix = under(info.key);
        if (prefix !== undefined) {
          // Jump over the whole prefix: the parallel listings cover it.
          startAfter = pastPrefix(prefix);
          restart = true;
          break;
        }
        add(info.key, info.size, info.etag);
      }
    }
  }
  sink(batch);
  return count + batch.length;
}
