import type { JournalScope, RunKind } from '../journal/journal-scope.js';
import { counted, type Logger } from '../log.js';
import type { MastodonDatabase, RowQuery } from '../mastodon/database.js';
import type { JobName } from '../mastodon/object-ref.js';
import { describeStorageError } from '../storage/errors.js';
import type { MultipartObserver, Storage } from '../storage/storage.js';
import type { RetryPolicy } from '../transfer/retry.js';
import { jobPrefixes, listPrefixes, type ListingOptions } from './listing.js';

/** When to list the destination before copying. */
export type InventoryMode =
  /** When some job has no completed full run in the journal (first runs, resumed first runs). */
  | 'auto'
  | 'always'
  | 'never';

export interface InventoryOptions {
  jobs: JobName[];
  concurrency: number;
  retry: RetryPolicy;
  localOnly?: boolean;
  retryFailed?: boolean;
  /** @defaultValue 'auto' */
  inventory?: InventoryMode;
}

export function runKind(options: { query: RowQuery; retryFailed?: boolean }): RunKind {
  if (options.retryFailed === true || options.query.limit !== undefined || options.query.afterId !== undefined) return 'partial';
  return options.query.since !== undefined ? 'delta' : 'full';
}

/** Whether the mode (or, in auto mode, the journal's history) asks for a listing of the destination. */
export function inventoryWanted(options: InventoryOptions, journal: JournalScope): boolean {
  const mode = options.inventory ?? 'auto';
  if (mode === 'never' || options.retryFailed === true) return false;
  return mode === 'always' || !options.jobs.every((job) => journal.hasCompletedFullRun(job));
}

/** Lists the destination into the journal; undefined when it cannot be listed (each object is then checked on its own). */
export async function takeInventory(
  destination: Storage,
  log: Logger,
  options: InventoryOptions,
  journal: JournalScope,
  cutPoints?: ListingOptions['cutPoints'],
): Promise<number | undefined> {
  const prefixes = jobPrefixes(options.jobs, options.localOnly);
  const started = Date.now();
  log.info(`listing ${destination.description} (${counted(prefixes.length, 'prefix', 'prefixes')}, in parallel) to skip per-object checks`);
  try {
    journal.clearInventory();
    const count = await listPrefixes(destination, prefixes, (entries) => journal.addInventory(entries), {
      retry: options.retry,
      parallel: Math.min(8, options.concurrency),
      ...(cutPoints !== undefined ? { cutPoints } : {}),
      onRetry: (error, prefix) => log.warn({ prefix, reason: describeStorageError(error) }, `listing ${prefix} failed; starting it over`),
    });
    log.info(`the destination holds ${counted(count, 'object')} under the jobs' prefixes (listed in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return count;
  } catch (error) {
    // Listing is an optimisation: without it every object is checked with a HEAD, as before.
    journal.clearInventory();
    log.warn({ reason: describeStorageError(error) }, `cannot list the destination (${describeStorageError(error)}): checking each object instead`);
    return undefined;
  }
}

/** Multipart uploads that crashed runs began: aborted, so that their parts stop costing storage. */
export async function abortAbandonedUploads(journal: JournalScope, destination: Storage, log: Logger): Promise<void> {
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

export function multipartObserver(journal: JournalScope, key: string, runId: number): MultipartObserver {
  return { started: (uploadId) => journal.uploadStarted(key, uploadId, runId), ended: (uploadId) => journal.uploadEnded(uploadId) };
}

/** The database server's clock: row timestamps are compared with it by a later `--since last`. */
export async function databaseNow(database: MastodonDatabase): Promise<number> {
  try {
    const [row] = await database.query(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS now`);
    const now = Number(row?.['now']);
    return Number.isFinite(now) ? now : Date.now();
  } catch {
    return Date.now();
  }
}
