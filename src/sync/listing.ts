import type { InventoryEntry } from '../journal/journal-scope.js';
import { jobModels } from '../mastodon/models.js';
import { isCachedRemoteMedia, type JobName } from '../mastodon/object-ref.js';
import { isTransientError } from '../storage/errors.js';
import type { ObjectInfo, Storage } from '../storage/storage.js';
import { withRetry, type RetryPolicy } from '../transfer/retry.js';

/**
 * The key prefixes under which the jobs' objects can live:
 * `<class>/<attachment>/` and, for attachments that can be cached,
 * `cache/<class>/<attachment>/`. Listing them rather than the whole storage
 * skips whatever else shares the bucket, and lets the listings run in parallel.
 * With `localOnly`, the `cache/` ones are left out.
 */
export function jobPrefixes(jobs: readonly JobName[], localOnly?: boolean): string[] {
  const prefixes = [...new Set(jobs.flatMap(attachmentPrefixes))];
  return localOnly === true ? prefixes.filter((prefix) => !isCachedRemoteMedia(prefix)) : prefixes;
}

/** The key prefixes of one job's attachments, local and cached. */
export function attachmentPrefixes(job: JobName): string[] {
  const model = jobModels[job];
  return model.attachments.flatMap((attachment) => {
    const path = `${model.classPath}/${attachment.plural}/`;
    return attachment.versioned ? [path, `cache/${path}`] : [path];
  });
}

export interface ListingOptions {
  /** Listings running at once. @defaultValue 8 */
  parallel?: number;
  retry: RetryPolicy;
  /** Entries are handed over in batches of this size. @defaultValue 1000 */
  batchSize?: number;
  /**
   * Keys at which a long prefix may be cut into ranges listed in parallel
   * (each range holds the keys after one cut point, up to the next), about
   * `parts` of them spread evenly over its keys. Asked only for a prefix
   * still being listed after `splitAfter` keys, on a storage that lists in
   * order. Any strings keep the listing complete; good ones keep it balanced.
   */
  cutPoints?: (prefix: string, parts: number) => Promise<readonly string[]>;
  /** @defaultValue 10000 */
  splitAfter?: number;
  onRetry?: (error: unknown, prefix: string) => void;
}

/** The keys of `prefix` after `after` (exclusive) up to `through` (inclusive); the whole prefix when both are absent. */
interface ListingRange {
  prefix: string;
  after?: string;
  through?: string;
}

/** Ranges per listing running at once when a prefix is cut: more, smaller ranges even out ranges of unequal size. */
const rangesPerListing = 4;

/**
 * Lists every object under `prefixes`, several listings at a time (flat
 * listings: one request per 1,000 keys however deep the tree), handing the
 * entries to `sink` in batches. A prefix with more than `splitAfter` keys
 * goes on as ranges between `cutPoints`, so that one large prefix
 * (`media_attachments/files/` of a big instance) is not one long sequence of
 * pages. A listing that fails on a transient error is started over (the sink
 * must accept an entry twice). Returns the number of entries listed. After a
 * failure the listings still running stop, and the error is thrown once they
 * have: the sink is never called after this returns or throws.
 */
export async function listPrefixes(
  storage: Storage,
  prefixes: readonly string[],
  sink: (entries: InventoryEntry[], prefix: string) => void,
  options: ListingOptions,
): Promise<number> {
  const parallel = Math.max(1, options.parallel ?? 8);
  const batchSize = options.batchSize ?? 1000;
  const { cutPoints } = options;
  const splitAfter = cutPoints !== undefined && storage.capabilities.sortedListing === true ? (options.splitAfter ?? 10_000) : Infinity;
  let total = 0;
  let failed = false;

  const runRange = async (range: ListingRange): Promise<ListingRange[]> => {
    const whole = range.after === undefined && range.through === undefined;
    const limits = { batchSize, stopAfter: whole ? splitAfter : Infinity, stopped: () => failed };
    const { value: listed } = await withRetry(
      () => listKeysIn(storage, range, (entries) => sink(entries, range.prefix), limits),
      options.retry,
      isTransientError,
      (error) => options.onRetry?.(error, range.prefix),
    );
    total += listed.count;
    if (listed.stoppedAt === undefined || cutPoints === undefined) return [];
    const parts = parallel * rangesPerListing;
    return rangesAfter(range.prefix, listed.stoppedAt, await cutPoints(range.prefix, parts), parts);
  };
  await inParallel(
    prefixes.map((prefix) => ({ prefix })),
    parallel,
    runRange,
    () => {
      failed = true;
    },
  );
  return total;
}

interface RangeListed {
  count: number;
  /** The last key handed over, when the listing stopped at `stopAfter` keys with more to come. */
  stoppedAt?: string;
}

async function listKeysIn(
  storage: Storage,
  range: ListingRange,
  sink: (entries: InventoryEntry[]) => void,
  limits: { batchSize: number; stopAfter: number; stopped: () => boolean },
): Promise<RangeListed> {
  const batches = entryBatches(sink, limits.batchSize);
  let last: string | undefined;
  for await (const info of storage.list(range.prefix, range.after === undefined ? {} : { startAfter: range.after })) {
    if (range.through !== undefined && compareUtf8(info.key, range.through) > 0) break;
    if (limits.stopped()) break;
    if (last !== undefined && batches.count() >= limits.stopAfter) return { count: batches.end(), stoppedAt: last };
    batches.add(info);
    last = info.key;
  }
  return { count: batches.end() };
}

/** Listed objects handed to `sink` `size` at a time; `end()` hands over the rest and says how many in all. */
function entryBatches(sink: (entries: InventoryEntry[]) => void, size: number): { add: (info: ObjectInfo) => void; count: () => number; end: () => number } {
  let handed = 0;
  let batch: InventoryEntry[] = [];
  const flush = (): void => {
    sink(batch);
    handed += batch.length;
    batch = [];
  };
  return {
    add: (info) => {
      batch.push({ key: info.key, size: info.size, ...(info.etag !== undefined ? { etag: info.etag } : {}) });
      if (batch.length >= size) flush();
    },
    count: () => handed + batch.length,
    end: () => {
      flush();
      return handed;
    },
  };
}

/**
 * Ranges that together hold every key of `prefix` after `after`: cut at up to
 * `parts - 1` of the cut points beyond it, picked evenly. A cut point's own
 * keys (a folder's, when it ends in `/`) sort after it, in the next range.
 */
function rangesAfter(prefix: string, after: string, cutPoints: readonly string[], parts: number): ListingRange[] {
  const ahead = [...new Set(cutPoints)].filter((cut) => cut.startsWith(prefix) && compareUtf8(cut, after) > 0).sort(compareUtf8);
  const chosen = ahead.length < parts ? ahead : Array.from({ length: parts - 1 }, (_, index) => ahead[Math.floor(((index + 1) * ahead.length) / parts)] as string);
  return [after, ...chosen].map((start, index) => ({ prefix, after: start, ...(index < chosen.length ? { through: chosen[index] as string } : {}) }));
}

/**
 * Runs each task `parallel` at a time; a task may hand back more tasks, which
 * join the queue. After a failure no task starts, `onFailure` lets running
 * ones stop early, and the first error is thrown once they have all ended.
 */
async function inParallel<T>(tasks: T[], parallel: number, run: (task: T) => Promise<T[]>, onFailure: () => void): Promise<void> {
  const queue = [...tasks];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  while (failure === undefined && (queue.length > 0 || running.size > 0)) {
    while (failure === undefined && queue.length > 0 && running.size < parallel) {
      const task = queue.shift() as T;
      const started: Promise<void> = run(task).then(
        (more) => {
          queue.push(...more);
        },
        (error: unknown) => {
          failure ??= { error };
          onFailure();
        },
      ).finally(() => running.delete(started));
      running.add(started);
    }
    if (running.size > 0) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure.error;
}

/**
 * Compares keys as S3 sorts them, by UTF-8 bytes, without encoding them:
 * UTF-16 order agrees with UTF-8 order except between surrogates (characters
 * past U+FFFF) and U+E000–U+FFFF, which are swapped back here.
 */
function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x === y) continue;
    if (x < 0xd800 || y < 0xd800) return x - y;
    return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

/** Places surrogates (U+D800–DFFF) after U+E000–U+FFFF, as their UTF-8 lead bytes (F0–F4) sort after EE–EF. */
const utf8Rank = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

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
  const prefixes = [...known].sort(compareUtf8);
  const under = (key: string): string | undefined => prefixes.find((prefix) => key.startsWith(prefix));
  const batches = entryBatches(sink, batchSize);
  if (storage.capabilities.sortedListing !== true) {
    for await (const info of storage.list('')) if (under(info.key) === undefined) batches.add(info);
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
        batches.add(info);
      }
    }
  }
  return batches.end();
}
