import { UserError } from '../errors.js';
import type { JournalScope, KeyState, RunKind } from '../journal/journal-scope.js';
import { settledOutcomes } from '../journal/journal-scope.js';
import type { Logger } from '../log.js';
import type { MastodonDatabase, RowQuery } from '../mastodon/database.js';
import type { JobName, ObjectRef } from '../mastodon/object-ref.js';
import { runPool } from '../queue/in-process-pool.js';
import type { ObjectEvent, RunStats } from '../stats/run-stats.js';
import { describeStorageError } from '../storage/errors.js';
import type { Acl, MultipartObserver, ObjectInfo, Storage } from '../storage/storage.js';
import { AdaptiveConcurrency } from '../transfer/adaptive-concurrency.js';
import { copyObject, type CopyContext, type CopyTask } from '../transfer/copy-object.js';
import type { RetryPolicy } from '../transfer/retry.js';
import { isThrottlingError } from '../transfer/throttling.js';
import { jobPrefixes, listPrefixes } from './listing.js';
import { referencedObjects } from './plan.js';

/** When to list the destination before copying. */
export type InventoryMode =
  /** When some job has no completed full run in the journal (first runs, resumed first runs). */
  | 'auto'
  | 'always'
  | 'never';

export interface SyncOptions {
  jobs: JobName[];
  query: RowQuery;
  concurrency: number;
  dryRun: boolean;
  /** The ACL an object gets, from the admin's choice and whether Mastodon keeps it private. */
  aclFor: (isPrivate: boolean) => Acl | undefined;
  defaultCacheControl: string;
  storageClass?: string;
  retry: RetryPolicy;
  /** Leave out `cache/` objects (remote media Mastodon can fetch again). */
  localOnly?: boolean;
  /** Only the keys the journal holds as failed or missing. */
  retryFailed?: boolean;
  /** @defaultValue 'auto' */
  inventory?: InventoryMode;
  /** After a stop signal, transfers in flight get this long to finish before they are abandoned. @defaultValue 30000 */
  graceMs?: number;
}

export interface SyncDependencies {
  database: MastodonDatabase;
  source: Storage;
  destination: Storage;
  stats: RunStats;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: no new object starts, in-flight ones finish (or are abandoned after the grace period). */
  signal?: AbortSignal;
  /**
   * This source → destination pair's state. Keys it holds as settled are
   * counted without a request; every outcome is recorded (not in dry runs).
   */
  journal?: JournalScope;
}

export interface SyncResult {
  /** completed: every job ran to its end; interrupted: stopped by the signal; abandoned: stopped with transfers still in flight. */
  status: 'completed' | 'interrupted' | 'abandoned';
  /** Objects the destination listing found, when one was taken. */
  inventoried?: number;
}

const defaultGraceMs = 30_000;

/** Failures that every further write would repeat: the run stops at the first, with one clear line. */
const fatalDestinationCodes = new Set(['storage.disk-full', 'storage.read-only']);

/** One run: each job in turn, its objects copied `concurrency` at a time. */
export async function runSync(dependencies: SyncDependencies, options: SyncOptions): Promise<SyncResult> {
  const { database, destination, stats, log, signal } = dependencies;
  // Dry runs read the journal (its settled keys are not counted as "would copy") but never write it.
  const { journal } = dependencies;
  const writing = journal !== undefined && !journal.readonly && !options.dryRun;

  if (writing) await abortAbandonedUploads(journal, destination, log);
  const inventoried = writing ? await maybeInventory(dependencies, options, journal) : undefined;
  const runId = writing ? journal.beginRun({ jobs: options.jobs, kind: runKind(options), localOnly: options.localOnly === true, sinceMark: await databaseNow(database) }) : undefined;

  const limiter = new AdaptiveConcurrency({
    max: options.concurrency,
    onChange: (limit, reason) => {
      stats.concurrencyChanged(limit, reason);
      if (reason === 'throttled') log.warn(`the storage is throttling: ${limit} transfers at once from now on`);
      else if (limit === options.concurrency) log.info(`throttling cleared: back to ${limit} transfers at once`);
    },
  });
  // Aborted when in-flight transfers are abandoned: their retries and backoff sleeps stop too.
  const abandon = new AbortController();
  const context: CopyContext = {
    signal: abandon.signal,
    source: dependencies.source,
    destination,
    stats,
    dryRun: options.dryRun,
    defaultCacheControl: options.defaultCacheControl,
    storageClass: options.storageClass,
    retry: options.retry,
    limiter,
    onTransientError: (error) => {
      if (isThrottlingError(error)) stats.throttled();
    },
    ...(writing && runId !== undefined ? { multipart: (key: string) => multipartObserver(journal, key, runId) } : {}),
  };

  let status: SyncResult['status'] = 'completed';
  let abandoned = false;
  let fatal: ObjectEvent | undefined;
  const stopping = (): boolean => signal?.aborted === true || fatal !== undefined;
  try {
    for (const job of options.jobs) {
      if (stopping()) break;
      stats.startJob(job, await database.countRows(job, options.query));
      const tasks = copyTasks(dependencies, job, options, { journal, inventoryFresh: inventoried !== undefined });
      const pool = runPool(
        tasks,
        options.concurrency,
        async (task) => {
          const event = await copyObject(task, context);
          if (abandoned) return;
          if (writing) journal.record(journalEntry(event), runId);
          logOutcome(log, event);
          if (event.outcome === 'failed' && event.code !== undefined && fatalDestinationCodes.has(event.code)) fatal ??= event;
        },
        stopping,
      );
      if ((await untilDoneOrAbandoned(pool, signal, options.graceMs ?? defaultGraceMs)) === 'abandoned') {
        abandoned = true;
        abandon.abort();
        const inFlight = stats.jobs().reduce((sum, counters) => sum + counters.inFlight, 0);
        log.warn(`abandoning ${inFlight} transfer${inFlight === 1 ? '' : 's'} still in flight after the grace period; the next run copies them`);
        stats.finishJob(job);
        status = 'abandoned';
        break;
      }
      stats.finishJob(job);
    }
    if (status === 'completed' && signal?.aborted === true) status = 'interrupted';
    if (fatal !== undefined) {
      throw new UserError(
        `${fatal.reason ?? 'the destination refused a write'}: stopped the run; ${fatal.code === 'storage.disk-full' ? 'free some space' : 'make the destination writable'} and run sync again (what was copied is kept)`,
        fatal.code ?? 'storage.write-failed',
      );
    }
  } catch (error) {
    if (writing && runId !== undefined) journal.endRun(runId, 'failed');
    throw error;
  }
  if (writing && runId !== undefined) {
    journal.endRun(runId, status === 'completed' ? 'completed' : 'interrupted');
    // A listing is only trusted by the run that took it: no need to keep its rows.
    if (inventoried !== undefined) journal.clearInventory();
  }
  return { status, ...(inventoried !== undefined ? { inventoried } : {}) };
}

interface PlanState {
  journal: JournalScope | undefined;
  /** A destination listing was taken this run: the journal's entries are checked against it. */
  inventoryFresh: boolean;
}

/**
 * The job's copy tasks, read from the database a page at a time. Keys the
 * journal holds as settled are counted here, without a request, unless a fresh
 * listing of the destination contradicts it (object gone, or another size).
 */
async function* copyTasks(dependencies: SyncDependencies, job: JobName, options: SyncOptions, state: PlanState): AsyncGenerator<CopyTask> {
  const { database, stats, signal } = dependencies;
  const { journal } = state;
  for await (const batch of referencedObjects(database, job, options.query)) {
    if (signal?.aborted === true) return;
    const considered: { ref: ObjectRef; known: KeyState | undefined }[] = [];
    for (const ref of batch.refs) {
      if (options.localOnly === true && ref.key.startsWith('cache/')) continue;
      const known = journal?.get(ref.key);
      if (options.retryFailed === true && (known === undefined || (known.outcome !== 'failed' && known.outcome !== 'missing'))) continue;
      considered.push({ ref, known });
    }
    stats.rowsRead(job, batch.rows, considered.length);
    for (const { ref, known } of considered) {
      const listed = state.inventoryFresh ? (journal?.inventoryEntry(ref.key) ?? null) : undefined;
      if (options.retryFailed !== true && known !== undefined && isSettled(known, listed)) {
        settleFromJournal(stats, known, job);
        continue;
      }
      yield toCopyTask(ref, options, listed);
    }
  }
}

/** Settled in the journal, and (when the destination was just listed) still there with the size and MD5 recorded. */
function isSettled(known: KeyState, listed: ObjectInfo | null | undefined): boolean {
  if (!settledOutcomes.includes(known.outcome)) return false;
  if (listed === undefined || (known.outcome !== 'copied' && known.outcome !== 'skipped')) return true;
  if (listed === null || (known.size !== null && listed.size !== known.size)) return false;
  return known.etag === null || listed.etag === undefined || !isMd5(listed.etag) || listed.etag.toLowerCase() === known.etag;
}

const isMd5 = (etag: string): boolean => /^[0-9a-f]{32}$/i.test(etag);

function settleFromJournal(stats: RunStats, known: KeyState, job: JobName): void {
  stats.transferStarted(job);
  stats.objectDone({
    job,
    key: known.key,
    // Copied by an earlier run: already there now.
    outcome: known.outcome === 'copied' ? 'skipped' : known.outcome,
    bytes: known.outcome === 'copied' || known.outcome === 'skipped' ? (known.size ?? 0) : 0,
    ...(known.reason !== null ? { reason: known.reason } : {}),
    fromJournal: true,
  });
}

function toCopyTask(ref: ObjectRef, options: SyncOptions, listed: ObjectInfo | null | undefined): CopyTask {
  return {
    job: ref.job,
    key: ref.key,
    alternateKey: ref.alternateKey,
    required: ref.required,
    acl: options.aclFor(ref.private),
    ...(listed !== undefined ? { destinationInfo: listed } : {}),
  };
}

function runKind(options: SyncOptions): RunKind {
  if (options.retryFailed === true || options.query.limit !== undefined || options.query.afterId !== undefined) return 'partial';
  return options.query.since !== undefined ? 'delta' : 'full';
}

/** Lists the destination into the journal when the mode (or, in auto mode, the journal's history) asks for it. */
async function maybeInventory(dependencies: SyncDependencies, options: SyncOptions, journal: JournalScope): Promise<number | undefined> {
  const mode = options.inventory ?? 'auto';
  if (mode === 'never' || options.retryFailed === true) return undefined;
  if (mode === 'auto' && options.jobs.every((job) => journal.hasCompletedFullRun(job))) return undefined;
  const { destination, log } = dependencies;
  const prefixes = jobPrefixes(options.jobs).filter((prefix) => options.localOnly !== true || !prefix.startsWith('cache/'));
  const started = Date.now();
  log.info(`listing ${destination.description} (${prefixes.length} prefixes, in parallel) to skip per-object checks`);
  try {
    journal.clearInventory();
    const count = await listPrefixes(destination, prefixes, (entries) => journal.addInventory(entries), {
      retry: options.retry,
      parallel: Math.min(8, options.concurrency),
      onRetry: (error, prefix) => log.warn({ prefix, reason: describeStorageError(error) }, `listing ${prefix} failed; starting it over`),
    });
    log.info(`the destination holds ${count} objects under the jobs' prefixes (listed in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return count;
  } catch (error) {
    // Listing is an optimisation: without it every object is checked with a HEAD, as before.
    journal.clearInventory();
    log.warn({ reason: describeStorageError(error) }, `cannot list the destination (${describeStorageError(error)}): checking each object instead`);
    return undefined;
  }
}

/** Multipart uploads that crashed runs began: aborted, so that their parts stop costing storage. */
async function abortAbandonedUploads(journal: JournalScope, destination: Storage, log: Logger): Promise<void> {
  for (const upload of journal.abandonedUploads()) {
    if (destination.abortUpload === undefined) {
      journal.uploadEnded(upload.uploadId);
      continue;
    }
    try {
      await destination.abortUpload(upload.key, upload.uploadId);
      journal.uploadEnded(upload.uploadId);
      log.info({ key: upload.key }, 'aborted an unfinished multipart upload an interrupted run left behind');
    } catch (error) {
      log.warn({ key: upload.key, reason: describeStorageError(error) }, 'cannot abort an unfinished multipart upload an interrupted run left behind; trying again next run');
    }
  }
}

function multipartObserver(journal: JournalScope, key: string, runId: number): MultipartObserver {
  return { started: (uploadId) => journal.uploadStarted(key, uploadId, runId), ended: (uploadId) => journal.uploadEnded(uploadId) };
}

/** The database server's clock: row timestamps are compared with it by a later `--since last`. */
async function databaseNow(database: MastodonDatabase): Promise<number> {
  try {
    const [row] = await database.query(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS now`);
    const now = Number(row?.['now']);
    return Number.isFinite(now) ? now : Date.now();
  } catch {
    return Date.now();
  }
}

/**
 * Waits for the pool; once `signal` fires, waits at most `graceMs` more. The
 * pool's own failure still surfaces, even after abandonment is decided.
 */
async function untilDoneOrAbandoned(pool: Promise<void>, signal: AbortSignal | undefined, graceMs: number): Promise<'done' | 'abandoned'> {
  if (signal === undefined) {
    await pool;
    return 'done';
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const grace = new Promise<'abandoned'>((resolve) => {
    onAbort = () => {
      timer = setTimeout(() => resolve('abandoned'), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([pool.then(() => 'done' as const), grace]);
    // An abandoned pool may still fail later (its storages are closed under it): nobody is listening then.
    if (result === 'abandoned') pool.catch(() => undefined);
    return result;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function journalEntry(event: ObjectEvent): Parameters<JournalScope['record']>[0] {
  const settledSize = event.outcome === 'copied' || event.outcome === 'skipped';
  return {
    job: event.job,
    key: event.key,
    outcome: event.outcome,
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    ...(event.attempts !== undefined ? { attempts: event.attempts } : {}),
    ...(settledSize ? { size: event.bytes } : {}),
    ...(event.etag !== undefined ? { etag: event.etag } : {}),
    ...(event.foundAt !== undefined ? { foundAt: event.foundAt } : {}),
  };
}

function logOutcome(log: Logger, event: ObjectEvent): void {
  const { job, key } = event;
  if (event.outcome === 'failed') log.error({ job, key, reason: event.reason }, 'copy failed');
  else if (event.outcome === 'missing') log.warn({ job, key, reason: event.reason }, 'original missing in source');
  else if (event.outcome === 'absent-style') log.debug({ job, key }, 'derived style absent in source');
  else if (event.foundAt !== undefined) log.info({ job, key, foundAt: event.foundAt }, 'found under the other cache/ variant; written where Mastodon expects it');
}
