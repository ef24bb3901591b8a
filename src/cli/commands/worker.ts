import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, UserError } from '../../errors.js';
import { counted, redactUrl, type Logger } from '../../log.js';
import { QueueWorker, type RunningTask } from '../../queue/queue-worker.js';
import { closeRedis, connectRedis } from '../../queue/redis-client.js';
import { RedisRunStatus, type RunMeta } from '../../queue/redis-run-status.js';
import { objectsDone, RunStats, type JobCounters, type ObjectEvent } from '../../stats/run-stats.js';
import { AdaptiveConcurrency } from '../../transfer/adaptive-concurrency.js';
import { copyObject, type CopyContext } from '../../transfer/copy-object.js';
import { defaultRetryPolicy } from '../../transfer/retry.js';
import { fatalDestinationFix, isFatalDestinationFailure } from '../../sync/fatal-destination.js';
import { logOutcome } from '../../sync/log-outcome.js';
import { isThrottlingError } from '../../transfer/throttling.js';
import { commandLogger, loadCommandConfig, openStorages, type CommonOptions } from '../context.js';
import { formatBytes, textTable } from '../format.js';
import { describeStorageSection, queueSettings, storageIdentity, type QueueFlags } from '../queue-options.js';
import { boundHeapGrowthForCopying } from '../heap-growth.js';
import { failureKey, isCopyTask } from '../queued-copy-task.js';
import { defaultGraceSeconds } from '../option-parsers.js';

export interface WorkerCommandOptions extends CommonOptions, QueueFlags {
  concurrency?: number;
  /** Seconds the tasks in flight get after SIGINT/SIGTERM before they are handed back to the queue. */
  gracePeriod?: number;
}

const heartbeatMs = 2000;
const progressLogMs = 30_000;
const metaPollMs = 2000;
/** How long a forced stop waits for Redis to take the tasks in flight back (Redis may be what is down). */
const handBackMs = 5000;

/**
 * Takes copy tasks from the queue and runs each through `copyObject`, the
 * same engine, retries and accounting as `sync`, until SIGINT/SIGTERM. Every
 * outcome goes to the run's counters in Redis as well as to this process's summary.
 */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  boundHeapGrowthForCopying();
  const config = await loadCommandConfig(options);
  const settings = queueSettings(options, config, 'worker');
  const log = await commandLogger(options);
  const concurrency = options.concurrency ?? config.sync.concurrency;
  const graceSeconds = options.gracePeriod ?? defaultGraceSeconds;
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const identity = storageIdentity(config.destination);
  const destinationText = describeStorageSection(config.destination);

  const redis = await connectRedis(settings.url);
  const status = new RedisRunStatus(redis, settings.prefix);
  try {
    // One socket a transfer: the storages' pools follow this worker's --concurrency, not [sync]'s.
    const { source, destination } = await openStorages({ ...config, sync: { ...config.sync, concurrency } }, { mode: 'write', log });
    try {
      const stop = new AbortController();
      let handBackAndQuit: (() => void) | undefined;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stop.signal.aborted) {
          log.warn(`${signal} again: handing the tasks in flight back to the queue and quitting`);
          if (handBackAndQuit === undefined) process.exit(ExitCode.interrupted);
          handBackAndQuit();
          return;
        }
        log.warn(`${signal}: taking no new task; finishing those in flight (at most ${graceSeconds} s; press Ctrl-C again to hand them back at once)`);
        stop.abort();
      };
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      const stats = new RunStats();
      const startedAt = Date.now();
      const beat = (): Promise<void> =>
        status
          .heartbeat({ id: workerId, host: hostname(), pid: process.pid, concurrency, startedAt, beatAt: Date.now(), inFlight: inFlightByJob(stats.jobs()), done: totalDone(stats.jobs()) })
          .catch(() => undefined);
      // From the start, so that `status` lists a worker waiting for its first task.
      await beat();
      const heartbeat = setInterval(() => void beat(), heartbeatMs);
      try {
        const meta = await runMeta(status, `the queue at ${redactUrl(settings.url)} (prefix ${settings.prefix})`, stop.signal, log);
        if (meta === undefined) return ExitCode.ok;
        if (meta.destinationIdentity !== identity) {
          throw new UserError(
            `this worker's [destination] is ${destinationText}, but the queue at ${redactUrl(settings.url)} (prefix ${settings.prefix}) was filled for ${meta.destination}: fix the config, or point --queue / [queue] prefix at this destination's run`,
            'queue.other-destination',
          );
        }
        // A worker reading elsewhere would find every object missing, an outcome no retry-failed takes back.
        if (meta.sourceIdentity !== undefined && meta.sourceIdentity !== storageIdentity(config.source)) {
          throw new UserError(
            `this worker's [source] is ${describeStorageSection(config.source)}, but the queue at ${redactUrl(settings.url)} (prefix ${settings.prefix}) was filled from ${meta.source}: fix [source] (every machine reads the bucket and prefix enqueue read; only the endpoint, or a directory's path, may differ)`,
            'queue.other-source',
          );
        }

        const limiter = new AdaptiveConcurrency({
          max: concurrency,
          onChange: (limit, reason) => {
            if (reason === 'throttled') log.warn(`the storage is throttling: ${limit} transfers at once from now on`);
            else if (limit === concurrency) log.info(`throttling cleared: back to ${limit} transfers at once`);
          },
        });
        const context: CopyContext = {
          source,
          destination,
          stats,
          dryRun: false,
          defaultCacheControl: config.sync.cache_control,
          storageClass: config.sync.storage_class,
          retry: defaultRetryPolicy,
          limiter,
          onTransientError: (error) => {
            if (!isThrottlingError(error)) return;
            stats.throttled();
            void status.recordThrottle().catch(() => undefined);
          },
        };
        let fatal: ObjectEvent | undefined;
        let lastError = 0;
        /** Set once the tasks in flight are handed back: what they still finish is another worker's to count. */
        let handingBack = false;
        const worker = new QueueWorker<unknown>(
          {
            ...settings,
            concurrency,
            name: workerId,
            onUnaccountedFailure: async (task, reason) => {
              const key = failureKey(task);
              log.error({ job: task.name, key, reason }, 'task failed');
              await status.record({ job: task.name, key, outcome: 'failed', bytes: 0, reason }).catch(() => undefined);
            },
            onStalled: (id) => log.warn({ task: id }, 'took back a task whose worker stopped renewing its lock (it runs again)'),
            onError: (error) => {
              // A Redis outage repeats this every second: one line per 30 s is enough.
              if (Date.now() - lastError < 30_000) return;
              lastError = Date.now();
              log.warn({ reason: error.message }, `queue error: ${error.message}`);
            },
          },
          async (task: RunningTask<unknown>) => {
            const data = task.data;
            if (!isCopyTask(data)) {
              const reason = 'not a copy task (queued by another program or version?)';
              await status.record({ job: task.name, key: task.id, outcome: 'failed', bytes: 0, reason }, task.lock);
              return { failure: reason };
            }
            if (!stats.jobs().some((counters) => counters.job === data.job)) stats.startJob(data.job, undefined);
            const event = await copyObject(data, context);
            if (handingBack) return {};
            if (!(await status.record(event, task.lock))) {
              log.warn(
                { job: data.job, key: data.key, outcome: event.outcome },
                `${data.key}: this worker lost its lock on the task (paused or cut off from Redis for more than [queue] lock_duration_s); another worker ran it again and counts it`,
              );
              return {};
            }
            logOutcome(log, event);
            // Idle now: say so at once rather than at the next beat (status shows nothing in flight).
            if (stats.jobs().every((counters) => counters.inFlight === 0)) void beat();
            if (event.outcome !== 'failed') return {};
            if (isFatalDestinationFailure(event) && fatal === undefined) {
              fatal = event;
              stop.abort();
            }
            return { failure: event.reason ?? 'failed' };
          },
        );
        handBackAndQuit = () => {
          if (handingBack) return;
          handingBack = true;
          const inFlight = worker.active;
          // Commands wait for a Redis that went away rather than fail: past the bound, the locks do the hand-back.
          setTimeout(() => {
            const locked = `; ${inFlight === 1 ? 'the task in flight stays locked to this worker until its lock lapses' : `the ${inFlight} tasks in flight stay locked to this worker until their locks lapse`} ([queue] lock_duration_s, ${settings.lockDurationMs / 1000} s), then another worker takes ${inFlight === 1 ? 'it' : 'them'} again`;
            log.warn(`Redis did not answer within ${handBackMs / 1000} s: quitting anyway${inFlight === 0 ? '' : locked}`);
            process.exit(ExitCode.interrupted);
          }, handBackMs);
          void (async () => {
            const handedBack = await worker.release();
            if (handedBack > 0) log.warn(`${counted(handedBack, 'task')} handed back to the queue`);
            await status.workerStopped(workerId).catch(() => undefined);
            // The exit skips the storages' closing below: their abandoned multipart uploads would keep their parts for
            // good (no state file holds their ids), and a directory its temporary files.
            await Promise.all([source.close(), destination.close()]);
          })().then(() => process.exit(ExitCode.interrupted));
        };

        let lastDone = 0;
        const progress = setInterval(() => {
          const done = totalDone(stats.jobs());
          if (done === lastDone && worker.active === 0) return;
          log.info(`${counted(done - lastDone, 'object')} done in the last ${progressLogMs / 1000} s (${done} since start, ${formatBytes(totalBytes(stats.jobs()))} copied); ${worker.active} in flight`);
          lastDone = done;
        }, progressLogMs);

        let abandoned = false;
        let graceTimer: NodeJS.Timeout | undefined;
        const onStop = (): void => {
          void worker.close();
          graceTimer = setTimeout(() => {
            abandoned = true;
            log.warn(`the grace period is over with ${counted(worker.active, 'task')} in flight`);
            handBackAndQuit?.();
          }, graceSeconds * 1000);
          graceTimer.unref();
        };
        stop.signal.addEventListener('abort', onStop, { once: true });

        log.info(
          { worker: workerId, queue: redactUrl(settings.url), prefix: settings.prefix, concurrency },
          `worker ${workerId}: copying tasks from ${redactUrl(settings.url)} (prefix ${settings.prefix}) to ${destinationText}, ${concurrency} at a time`,
        );
        try {
          await worker.run();
        } finally {
          clearTimeout(graceTimer);
          clearInterval(progress);
          stop.signal.removeEventListener('abort', onStop);
          await worker.close();
          await status.workerStopped(workerId).catch(() => undefined);
        }
        const jobs = stats.jobs();
        if (stats.throttleEvents > 0) log.warn(`the storages throttled ${stats.throttleEvents} requests; lower --concurrency if this keeps happening`);
        process.stdout.write(options.json === true ? `${JSON.stringify({ worker: workerId, summary: jobs.map(summaryEntry) })}\n` : `${workerTable(jobs)}\n`);
        const fatalEvent = fatal as ObjectEvent | undefined;
        if (fatalEvent !== undefined) {
          throw new UserError(
            `${fatalEvent.reason ?? 'the destination refused a write'}: stopped this worker; ${fatalDestinationFix(fatalEvent)}, then enqueue --retry-failed and start the workers again`,
            fatalEvent.code ?? 'storage.write-failed',
          );
        }
        return abandoned ? ExitCode.interrupted : ExitCode.ok;
      } finally {
        clearInterval(heartbeat);
        await status.workerStopped(workerId).catch(() => undefined);
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    } finally {
      await Promise.all([source.close(), destination.close()]);
    }
  } finally {
    await closeRedis(redis);
  }
}

/**
 * The run's meta, once `enqueue` has written it; undefined when stopped while waiting. The wait names
 * `queue` (URL and prefix): a worker given another prefix than enqueue's would otherwise idle unnoticed.
 */
async function runMeta(status: RedisRunStatus, queue: string, signal: AbortSignal, log: Logger): Promise<RunMeta | undefined> {
  let told = false;
  for (;;) {
    const meta = await status.meta();
    if (meta !== undefined) return meta;
    if (!told) log.info(`${queue} holds no run yet: waiting for enqueue`);
    told = true;
    const slept = await sleep(metaPollMs, true, { signal }).catch(() => false);
    if (!slept) return undefined;
  }
}

function inFlightByJob(jobs: JobCounters[]): Record<string, number> {
  return Object.fromEntries(jobs.filter((counters) => counters.inFlight > 0).map((counters) => [counters.job, counters.inFlight]));
}

function totalDone(jobs: JobCounters[]): number {
  return jobs.reduce((sum, counters) => sum + objectsDone(counters), 0);
}

function totalBytes(jobs: JobCounters[]): number {
  return jobs.reduce((sum, counters) => sum + counters.bytes, 0);
}

function summaryEntry(counters: JobCounters): Record<string, unknown> {
  const { job, copied, skipped, missing, absentStyle, failed, bytes } = counters;
  return { job, copied, skipped, missing, absentStyle, failed, bytes };
}

/** What this worker did, one line a job (the run's totals are in `status`). */
function workerTable(jobs: JobCounters[]): string {
  if (jobs.length === 0) return 'this worker copied nothing';
  const header = ['job', 'copied', 'skipped', 'missing', 'absent', 'failed', 'bytes'];
  const rows = jobs.map((c) => [c.job, String(c.copied), String(c.skipped), String(c.missing), String(c.absentStyle), String(c.failed), formatBytes(c.bytes)]);
  return textTable(header, rows);
}
