import { describeStorageError, isTransientError } from '../storage/errors.js';
import type { Acl, ObjectInfo, ReadResult, Storage, WriteOptions } from '../storage/storage.js';
import type { ObjectEvent, RunStats } from '../stats/run-stats.js';
import { countingStream } from './counting-stream.js';
import { RetriesExhausted, withRetry, type RetryPolicy } from './retry.js';

/** One object to bring from the source to the destination. */
export interface CopyTask {
  job: string;
  /** Where the object belongs, in the destination and (first choice) in the source. */
  key: string;
  /** Where else the source may hold it (the other `cache/` variant). */
  alternateKey?: string;
  /** Its absence from the source is "missing" rather than an expected gap. */
  required: boolean;
  acl?: Acl;
}

export interface CopyContext {
  source: Storage;
  destination: Storage;
  stats: RunStats;
  dryRun: boolean;
  /** Cache-Control for objects whose source has none (Mastodon's own default). */
  defaultCacheControl: string;
  storageClass?: string;
  retry: RetryPolicy;
  /** Hears each transient failure: the scheduler slows down on throttling. */
  onTransientError?: (error: unknown) => void;
}

interface Located<T> {
  key: string;
  value: T;
}

/**
 * The one place an object moves. Decides skip, server-side copy or stream,
 * applies the cache/ fallback and metadata, retries transient failures, and
 * reports exactly one outcome to the stats.
 */
export async function copyObject(task: CopyTask, context: CopyContext): Promise<ObjectEvent> {
  context.stats.transferStarted(task.job);
  let event: ObjectEvent;
  try {
    const { value } = await withRetry(() => attemptCopy(task, context), context.retry, isTransientError, context.onTransientError);
    event = value;
  } catch (error) {
    const cause = error instanceof RetriesExhausted ? error.lastError : error;
    const attempts = error instanceof RetriesExhausted ? ` (after ${error.attempts} attempts)` : '';
    event = { job: task.job, key: task.key, outcome: 'failed', bytes: 0, reason: `${describeStorageError(cause)}${attempts}` };
  }
  context.stats.objectDone(event);
  return event;
}

async function attemptCopy(task: CopyTask, context: CopyContext): Promise<ObjectEvent> {
  const { source, destination } = context;
  const existing = await destination.head(task.key);
  if (existing !== undefined) {
    const found = await locate(task, (key) => source.head(key));
    // The destination already has what the source lacks: nothing to do, nothing lost.
    if (found === undefined || isSameObject(found.value, existing)) return done(task, 'skipped', existing.size);
  }

  if (context.dryRun || destination.copyFrom !== undefined && destination.canCopyFrom?.(source) === true) {
    const found = await locate(task, (key) => source.head(key));
    if (found === undefined) return absent(task);
    if (!context.dryRun) await destination.copyFrom!(source, found.key, task.key, writeOptions(found.value, task, context));
    return done(task, 'copied', found.value.size, found.key);
  }

  const found = await locate(task, (key) => source.read(key));
  if (found === undefined) return absent(task);
  const bytes = await streamCopy(found.value, task, context);
  return done(task, 'copied', bytes, found.key);
}

async function streamCopy(read: ReadResult, task: CopyTask, context: CopyContext): Promise<number> {
  const counted = countingStream(read.body, (bytes) => context.stats.bytesMoved(task.job, bytes));
  try {
    await context.destination.write(task.key, counted.stream, writeOptions(read.info, task, context));
  } finally {
    read.body.destroy();
  }
  if (counted.bytes() !== read.info.size) {
    // A body cut short by the network: the destination write must not count, and another try usually succeeds.
    throw new TruncatedBodyError(read.info.key, counted.bytes(), read.info.size);
  }
  return counted.bytes();
}

export class TruncatedBodyError extends Error {
  override readonly name = 'TruncatedBodyError';
  /** Read by isTransientError: a short body is worth another try. */
  readonly transient = true;
  constructor(key: string, received: number, expected: number) {
    super(`source body of ${key} ended after ${received} of ${expected} bytes`);
  }
}

async function locate<T>(task: CopyTask, probe: (key: string) => Promise<T | undefined>): Promise<Located<T> | undefined> {
  for (const key of task.alternateKey === undefined ? [task.key] : [task.key, task.alternateKey]) {
    const value = await probe(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

function writeOptions(info: ObjectInfo, task: CopyTask, context: CopyContext): WriteOptions {
  return {
    contentType: info.contentType,
    cacheControl: info.cacheControl ?? context.defaultCacheControl,
    acl: task.acl,
    storageClass: context.storageClass,
    size: info.size,
  };
}

const singlePartMd5 = /^[0-9a-f]{32}$/i;

/** Same size, and the same MD5 where both ETags are single-part MD5s (multipart ETags are not comparable). */
export function isSameObject(source: ObjectInfo, destination: ObjectInfo): boolean {
  if (source.size !== destination.size) return false;
  if (source.etag !== undefined && destination.etag !== undefined && singlePartMd5.test(source.etag) && singlePartMd5.test(destination.etag)) {
    return source.etag.toLowerCase() === destination.etag.toLowerCase();
  }
  return true;
}

function done(task: CopyTask, outcome: 'copied' | 'skipped', bytes: number, foundAt?: string): ObjectEvent {
  return { job: task.job, key: task.key, outcome, bytes, ...(foundAt !== undefined && foundAt !== task.key ? { foundAt } : {}) };
}

function absent(task: CopyTask): ObjectEvent {
  const where = task.alternateKey === undefined ? 'not in source' : `not in source (also tried ${task.alternateKey})`;
  return { job: task.job, key: task.key, outcome: task.required ? 'missing' : 'absent-style', bytes: 0, reason: where };
}
