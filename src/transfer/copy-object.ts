import { errorCode } from '../errors.js';
import { BodySizeMismatchError, describeStorageError, isTransientError } from '../storage/errors.js';
import { singlePartMd5, type Acl, type MultipartObserver, type ObjectInfo, type ReadInfo, type ReadResult, type Storage, type WriteOptions } from '../storage/storage.js';
import type { ObjectEvent, RunStats } from '../stats/run-stats.js';
import type { AdaptiveConcurrency } from './adaptive-concurrency.js';
import { contentTypeToWrite } from './content-type.js';
import { RetriesExhausted, withRetry, type RetryPolicy } from './retry.js';
import { isThrottlingError } from './throttling.js';

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
  /** The ACL the destination's copy was written with, when an earlier run recorded it. */
  writtenAcl?: Acl;
  /**
   * What a listing of the destination taken this run says about `key`: `null`
   * when it is not there, its size (and ETag) when it is. Saves the HEAD of the
   * destination on the first attempt; omitted when unknown.
   */
  destinationInfo?: ObjectInfo | null;
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
  /**
   * Shared by every transfer of the run: each attempt waits for a permit, and
   * throttling answers lower the number of permits (AIMD).
   */
  limiter?: AdaptiveConcurrency;
  /** Hears of multipart uploads of `key` as they begin and end (the journal keeps their ids for crash clean-up). */
  multipart?: (key: string) => MultipartObserver | undefined;
  /** Aborted when the run abandons its transfers (after the grace period): no further attempt or backoff. */
  signal?: AbortSignal;
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
  const started = performance.now();
  const { limiter } = context;
  let attempts = 0;
  /** The step the last attempt failed at, for the reason: the retries and the scheduler see the storage's own error. */
  let failedStep: Step | undefined;
  const attempt = async (): Promise<ObjectEvent> => {
    attempts += 1;
    const first = attempts === 1;
    let value: ObjectEvent;
    try {
      value = limiter === undefined ? await attemptCopy(task, context, first) : await limiter.run(() => attemptCopy(task, context, first));
    } catch (error) {
      failedStep = error instanceof StepFailure ? error.step : undefined;
      throw error instanceof StepFailure ? error.error : error;
    }
    limiter?.succeeded();
    return value;
  };
  const onRetry = (error: unknown): void => {
    if (isThrottlingError(error)) limiter?.throttled();
    context.onTransientError?.(error);
  };
  let event: ObjectEvent;
  try {
    const { value } = await withRetry(attempt, context.retry, isTransientError, onRetry, context.signal);
    event = { ...value, attempts };
  } catch (error) {
    const cause = error instanceof RetriesExhausted ? error.lastError : error;
    if (error instanceof RetriesExhausted && isThrottlingError(cause)) limiter?.throttled();
    const code = storageErrorCode(cause);
    const reason = failureReason(failedStep, cause, error instanceof RetriesExhausted ? error.attempts : undefined);
    event = { job: task.job, key: task.key, outcome: 'failed', bytes: 0, reason, attempts, ...(code !== undefined ? { code } : {}) };
  }
  event.durationMs = performance.now() - started;
  context.stats.objectDone(event);
  return event;
}

async function attemptCopy(task: CopyTask, context: CopyContext, first: boolean): Promise<ObjectEvent> {
  const { source, destination } = context;
  // Set before each request, so that a failure names the side that gave it.
  let step: Step = 'checking the destination';
  try {
    // A listing's word is trusted once; a retry asks again (the failed attempt may have written after all).
    const existing = first && task.destinationInfo !== undefined ? (task.destinationInfo ?? undefined) : await destination.head(task.key);
    step = 'reading from the source';
    if (existing !== undefined) {
      const found = await locate(task, (key) => source.head(key));
      // The destination already has what the source lacks: nothing to do, nothing lost.
      if (found === undefined) return { ...done(task, 'skipped', existing.size ?? 0, undefined, existing.etag), notInSource: true };
      // Same bytes under another ACL are written again: that is the one request that sets an ACL everywhere a PUT can.
      const aclToFix = destination.capabilities.acls && needsAclWrite(task.acl, task.writtenAcl);
      if (isSameObject(found.value, existing) && !aclToFix) return done(task, 'skipped', existing.size ?? found.value.size ?? 0, undefined, existing.etag);
    }

    if (context.dryRun || destination.copyFrom !== undefined && destination.canCopyFrom?.(source) === true) {
      const found = await locate(task, (key) => source.head(key));
      if (found === undefined) return absent(task);
      // A size the HEAD did not tell is counted as none: a dry run reads no body.
      if (context.dryRun) return written(task, context, found.value.size ?? 0, found.key, found.value.etag);
      // Too large for one server-side copy (S3: 5 GiB), or of a size the HEAD did not tell (it may be): streamed below instead.
      if (found.value.size !== undefined && destination.canCopyFrom!(source, found.value.size)) {
        step = 'writing to the destination';
        await destination.copyFrom!(source, found.key, task.key, writeOptions(found.value, task, context));
        return written(task, context, found.value.size, found.key, found.value.etag);
      }
    }

    const found = await locate(task, (key) => source.read(key));
    if (found === undefined) return absent(task);
    step = 'writing to the destination';
    const bytes = await streamCopy(found.value, task, context);
    // Same bytes, so the same MD5 (when the source's ETag is one; a multipart one says nothing).
    return written(task, context, bytes, found.key, found.value.info.etag);
  } catch (error) {
    throw error instanceof StepFailure ? error : new StepFailure(step, error);
  }
}

async function streamCopy(read: ReadResult, task: CopyTask, context: CopyContext): Promise<number> {
  let moved = 0;
  // The bytes that came, for a body whose length the source did not announce.
  const onBytes = (bytes: number): void => {
    moved += bytes;
  };
  try {
    // The destination refuses a body of any other length than the source announced (a body cut
    // short by the network): BodySizeMismatchError, which another try usually cures. A body whose
    // length the source did not announce (a chunked answer) is taken as it comes; cut short, it
    // fails with the connection's error instead.
    await context.destination.write(task.key, read.body, { ...writeOptions(read.info, task, context), onBytes });
  } catch (error) {
    // The write fails with the body's own error when the body broke (the source's connection dropped, its file shrank).
    const sourceFailed = read.body.errored !== null || error instanceof BodySizeMismatchError;
    throw new StepFailure(sourceFailed ? 'reading from the source' : 'writing to the destination', error);
  } finally {
    read.body.destroy();
  }
  return read.info.size ?? moved;
}

/**
 * The steps of a copy, as a failure's reason names them: an error alone (`ECONNREFUSED`, `403
 * Forbidden`) does not say which storage gave it.
 */
type Step = 'reading from the source' | 'checking the destination' | 'writing to the destination';

/** An attempt's error with the step it failed at; copyObject unwraps it at once. */
class StepFailure {
  constructor(
    readonly step: Step,
    readonly error: unknown,
  ) {}
}

/**
 * The reason a failed object is reported with, everywhere it is shown (the log, the state file and
 * `report`, the queue's failures): the step, the error, and the attempts when they ran out, e.g.
 * `reading from the source: ECONNREFUSED (after 5 attempts)`.
 */
function failureReason(step: Step | undefined, error: unknown, exhaustedAttempts: number | undefined): string {
  const described = describeStorageError(error);
  return `${step === undefined ? '' : `${step}: `}${described}${exhaustedAttempts === undefined ? '' : ` (after ${exhaustedAttempts} attempts)`}`;
}

/** The stable code of our own storage errors (`storage.disk-full`...), not errnos or SDK names. */
function storageErrorCode(error: unknown): string | undefined {
  const code = errorCode(error);
  return code?.startsWith('storage.') === true ? code : undefined;
}

async function locate<T>(task: CopyTask, probe: (key: string) => Promise<T | undefined>): Promise<Located<T> | undefined> {
  for (const key of task.alternateKey === undefined ? [task.key] : [task.key, task.alternateKey]) {
    const value = await probe(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

function writeOptions(info: ReadInfo, task: CopyTask, context: CopyContext): WriteOptions {
  const multipart = context.multipart?.(task.key);
  return {
    contentType: contentTypeToWrite(task.key, info.contentType),
    cacheControl: info.cacheControl ?? context.defaultCacheControl,
    acl: task.acl,
    storageClass: context.storageClass,
    size: info.size,
    ...(multipart !== undefined ? { multipart } : {}),
  };
}

/**
 * Whether an object already at the destination must be written again to carry `wanted`. A listing
 * or HEAD does not tell an object's ACL: when no run recorded it, only a private one is worth the
 * write, since a public copy of what Mastodon keeps private (a suspended account's media) must not
 * stay readable, while the other way round costs a rewrite of every object.
 */
export function needsAclWrite(wanted: Acl | undefined, written: Acl | undefined): boolean {
  if (wanted === undefined) return false;
  return written === undefined ? wanted === 'private' : written !== wanted;
}

/**
 * Same size, and the same MD5 where both ETags are single-part MD5s (multipart ETags are not comparable).
 * A size a HEAD did not tell (a gateway that strips Content-Length) proves nothing: then only equal MD5s do.
 */
export function isSameObject(source: ReadInfo, destination: ReadInfo): boolean {
  if (source.size !== destination.size && source.size !== undefined && destination.size !== undefined) return false;
  if (source.etag !== undefined && destination.etag !== undefined && singlePartMd5.test(source.etag) && singlePartMd5.test(destination.etag)) {
    return source.etag.toLowerCase() === destination.etag.toLowerCase();
  }
  return source.size !== undefined && source.size === destination.size;
}

function done(task: CopyTask, outcome: 'copied' | 'skipped', bytes: number, foundAt?: string, etag?: string): ObjectEvent {
  return {
    job: task.job,
    key: task.key,
    outcome,
    bytes,
    ...(foundAt !== undefined && foundAt !== task.key ? { foundAt } : {}),
    ...(etag !== undefined && singlePartMd5.test(etag) ? { etag: etag.toLowerCase() } : {}),
  };
}

/** Copied, with the ACL it was written with where the destination keeps one. */
function written(task: CopyTask, context: CopyContext, bytes: number, foundAt: string, etag: string | undefined): ObjectEvent {
  const event = done(task, 'copied', bytes, foundAt, etag);
  if (task.acl !== undefined && context.destination.capabilities.acls) event.acl = task.acl;
  return event;
}

function absent(task: CopyTask): ObjectEvent {
  const where = task.alternateKey === undefined ? 'not in source' : `not in source (also tried ${task.alternateKey})`;
  return { job: task.job, key: task.key, outcome: task.required ? 'missing' : 'absent-style', bytes: 0, reason: where };
}
