import { UserError } from '../errors.js';
import type { JournalScope } from '../journal/journal-scope.js';
import { counted, type Logger } from '../log.js';
import type { MastodonDatabase } from '../mastodon/database.js';
import { runPool } from '../queue/in-process-pool.js';
import type { ObjectEvent, RunStats } from '../stats/run-stats.js';
import type { Storage } from '../storage/storage.js';
import { AdaptiveConcurrency } from '../transfer/adaptive-concurrency.js';
import { copyObject, type CopyContext, type CopyTask } from '../transfer/copy-object.js';
import { isThrottlingError } from '../transfer/throttling.js';
import { fatalDestinationFix, isFatalDestinationFailure } from './fatal-destination.js';
import { untilDoneOrAbandoned } from './grace-period.js';
import { logOutcome } from './log-outcome.js';
import { cutPointsFromDatabase } from './listing-cuts.js';
import { abortAbandonedUploads, databaseNow, inventoryWanted, multipartObserver, runKind, takeInventory, type InventoryOptions } from './run-preparation.js';
import { copyTasks, type TaskOptions } from './settled-keys.js';
import { HeldAbsences } from './held-absences.js';

export type { InventoryMode } from './run-preparation.js';

export interface SyncOptions extends TaskOptions, InventoryOptions {
  dryRun: boolean;
  defaultCacheControl: string;
  storageClass?: string;
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
   * Settles when the storages may be used (their checks have passed). Rows and
   * the journal are read before it does; nothing touches a storage, and the run
   * is not recorded, until it has. Rejecting ends the run with its error before
   * any object moves. @defaultValue already settled
   */
  ready?: Promise<void>;
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
  /**
   * A completed run (not --retry-failed) whose [source] held none of the objects it asked about: how many it lacked.
   * Their outcomes were not recorded (the next run asks again), and the run is recorded as failed.
   */
  emptySource?: number;
}

const defaultGraceMs = 30_000;

/** One run: each job in turn, its objects copied `concurrency` at a time. */
export async function runSync(dependencies: SyncDependencies, options: SyncOptions): Promise<SyncResult> {
  const { database, destination, stats, log, signal } = dependencies;
  // Dry runs read the journal (its settled keys are not counted as "would copy") but never write it.
  const { journal } = dependencies;
  const writing = journal !== undefined && !journal.readonly && !options.dryRun;

  const ready = dependencies.ready ?? Promise.resolve();
  // A stop while the storages are still being checked ends the run without waiting for the checks:
  // nothing has touched a storage yet, and a check of an endpoint that never answers lasts timeout_s.
  const stopped = new Promise<'stopped'>((resolve) => {
    if (signal?.aborted === true) resolve('stopped');
    else signal?.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  const readyUnlessStopped = async (): Promise<boolean> => (await Promise.race([ready.then(() => 'ready' as const), stopped])) === 'ready';
  // The database's clock before any row is read: what changes after it is the next `--since last`'s.
  const sinceMark = writing ? await databaseNow(database) : undefined;
  const inventoried =
    writing && inventoryWanted(options, journal) && (await readyUnlessStopped())
      ? await takeInventory(destination, log, options, journal, cutPointsFromDatabase(database, options.jobs))
      : undefined;
  // A re-run mostly reads: its rows and the journal's answers need not wait for the storages' checks
  // (a few round trips each), only what touches a storage or records the run does.
  let runId: number | undefined;
  const started = ready.then(async () => {
    // Checks that pass after a stop has ended the run begin nothing.
    if (!writing || signal?.aborted === true) return;
    await abortAbandonedUploads(journal, destination, log);
    runId = journal.beginRun({ jobs: options.jobs, kind: runKind(options), localOnly: options.localOnly === true, sinceMark });
  });
  // Stops reading rows as soon as the run cannot go on: a stop signal, or storages that failed their checks.
  const halt = new AbortController();
  started.catch(() => halt.abort());
  if (signal?.aborted === true) halt.abort();
  else signal?.addEventListener('abort', () => halt.abort(), { once: true });

  const limiter = new AdaptiveConcurrency({
    max: options.concurrency,
    onChange: (limit, reason) => {
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
    // Transfers begin only once `started` has settled, and with it `runId`.
    ...(writing ? { multipart: (key: string) => multipartObserver(journal, key, runId!) } : {}),
  };

  // Outcomes come from transfers, which begin once `started` has set `runId`.
  const absences = new HeldAbsences(writing ? (event) => journal.record(journalEntry(event), runId) : undefined);
  let status: SyncResult['status'] = 'completed';
  let abandoned = false;
  let fatal: ObjectEvent | undefined;
  const stopping = (): boolean => halt.signal.aborted || fatal !== undefined;
  // One pool for every job: the next job's transfers start while the job before finishes its last
  // ones, instead of the pool draining down to one large video at each job boundary.
  const handedOut = new Set<string>();
  const finishWhenIdle = (job: string): void => {
    if (!handedOut.has(job)) return;
    const counters = stats.job(job);
    if (counters !== undefined && counters.finishedAt === undefined && counters.inFlight === 0) stats.finishJob(job);
  };
  async function* everyJobsTasks(): AsyncGenerator<CopyTask> {
    for (const job of options.jobs) {
      if (stopping()) return;
      stats.startJob(job, await database.countRows(job, options.query));
      yield* copyTasks(job, options, { database, stats, signal: halt.signal, journal, inventoryFresh: inventoried !== undefined });
      handedOut.add(job);
      finishWhenIdle(job);
    }
  }
  try {
    const pool = runPool(
      everyJobsTasks(),
      options.concurrency,
      async (task) => {
        await Promise.race([started, stopped]);
        // Held while the storages were being checked, and a stop came meanwhile: the next run copies it.
        if (stopping()) return;
        const event = await copyObject(task, context);
        if (abandoned) return;
        absences.outcome(event);
        logOutcome(log, event, options.dryRun);
        if (isFatalDestinationFailure(event)) fatal ??= event;
        finishWhenIdle(task.job);
      },
      stopping,
    );
    const outcome = await untilDoneOrAbandoned(pool, signal, options.graceMs ?? defaultGraceMs);
    // A run whose every key the journal settled handed no task out: its storages' checks still decide it, unless it was stopped.
    await Promise.race([started, stopped]);
    if (outcome === 'abandoned') {
      abandoned = true;
      abandon.abort();
      const inFlight = stats.jobs().reduce((sum, counters) => sum + counters.inFlight, 0);
      log.warn(`abandoning ${counted(inFlight, 'transfer')} still in flight after the grace period; the next run copies them`);
      status = 'abandoned';
    }
    // Jobs a stop left unfinished end here, as they stand.
    for (const counters of stats.jobs()) if (counters.finishedAt === undefined) stats.finishJob(counters.job);
    if (status === 'completed' && signal?.aborted === true) status = 'interrupted';
    if (fatal !== undefined) {
      throw new UserError(
        `${fatal.reason ?? 'the destination refused a write'}: stopped the run; ${fatalDestinationFix(fatal)} and run sync again (what was copied is kept)`,
        fatal.code ?? 'storage.write-failed',
      );
    }
  } catch (error) {
    if (writing && runId !== undefined) {
      try {
        journal.endRun(runId, 'failed');
      } catch {
        // The run's own error says more (it may be the journal's disk that failed).
      }
    }
    throw error;
  }
  // A retry asks only about keys already missing or failed: finding none of them says nothing about [source].
  const emptySource = status === 'completed' && options.retryFailed !== true ? absences.noneFound : undefined;
  if (writing && runId !== undefined) {
    // Not completed: neither `--since last` nor a full run's trust in the journal may start from it.
    journal.endRun(runId, status !== 'completed' ? 'interrupted' : emptySource !== undefined ? 'failed' : 'completed');
    // A listing is only trusted by the run that took it: no need to keep its rows.
    if (inventoried !== undefined) journal.clearInventory();
  }
  return { status, ...(inventoried !== undefined ? { inventoried } : {}), ...(emptySource !== undefined ? { emptySource } : {}) };
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
    ...(event.acl !== undefined ? { acl: event.acl } : {}),
  };
}
