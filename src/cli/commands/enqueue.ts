import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ExitCode, UserError } from '../../errors.js';
import { counted, redactUrl, type Logger } from '../../log.js';
import type { MastodonDatabase } from '../../mastodon/database.js';
import { isCachedRemoteMedia, type JobName, type ObjectRef } from '../../mastodon/object-ref.js';
import { closeRedis, connectRedis } from '../../queue/redis-client.js';
import { RedisRunStatus } from '../../queue/redis-run-status.js';
import { taskId } from '../../queue/task-id.js';
import { TaskProducer, type QueuedTask } from '../../queue/task-producer.js';
import { referencedObjects, resolveJobs } from '../../sync/plan.js';
import type { CopyTask } from '../../transfer/copy-object.js';
import { commandLogger, connectDatabase, loadCommandConfig, parseJobNames, type CommonOptions } from '../context.js';
import { describeStorageSection, queueSettings, storageIdentity, type QueueCommandSettings, type QueueFlags } from '../queue-options.js';
import { aclFor } from '../runtime-options.js';
import type { Config } from '../../config/schema.js';
import { textTable } from '../format.js';
import { failureKey } from '../queued-copy-task.js';

export interface EnqueueCommandOptions extends CommonOptions, QueueFlags {
  limit?: number;
  /** Queue the jobs again from their first row, although an earlier enqueue finished them. */
  fromStart?: boolean;
  /** Put the failed tasks back in the queue instead of reading the database. */
  retryFailed?: boolean;
  localOnly?: boolean;
}

/** What one job's pass did, for the closing table. */
interface JobReport {
  job: string;
  rows: number;
  keys: number;
  enqueued: number;
  alreadyQueued: number;
  state: 'enqueued' | 'partial' | 'interrupted' | 'already-enqueued';
}

/** One `enqueue` per run at a time; the lock expires this long after its holder dies. */
const producerLockMs = 30_000;

/**
 * Reads the jobs' rows and puts a copy task a referenced key in the queue,
 * pausing while the queue is full; resumes where an interrupted enqueue stopped.
 */
export async function enqueueCommand(jobArguments: string[], options: EnqueueCommandOptions): Promise<number> {
  const requestedJobs = parseJobNames(jobArguments);
  const config = await loadCommandConfig(options);
  const settings = queueSettings(options, config, 'enqueue');
  const log = await commandLogger(options);
  const redis = await connectRedis(settings.url);
  const status = new RedisRunStatus(redis, settings.prefix);
  const producerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  let lockTimer: NodeJS.Timeout | undefined;
  try {
    const holder = await status.lockProducer(producerId, producerLockMs);
    if (holder !== undefined) {
      throw new UserError(`another enqueue (${holder}) is filling this queue: let it finish, or stop it first`, 'queue.producer-busy');
    }
    lockTimer = setInterval(() => void status.extendProducerLock(producerId, producerLockMs).catch(() => undefined), producerLockMs / 3);
    lockTimer.unref();
    const producer = new TaskProducer<CopyTask>({
      ...settings,
      redis,
      onFull: (waiting) => log.info(`${waiting} tasks are waiting ([queue] max_waiting ${settings.maxWaiting}): pausing until the workers catch up`),
      onRoom: (waiting) => log.info(`${waiting} tasks waiting: going on`),
    });
    producer.queue.on('error', (error) => log.warn({ reason: error.message }, 'queue connection error'));
    try {
      if (options.retryFailed === true) return await retryFailed(producer, status, requestedJobs, log, options.json === true);
      return await enqueueJobs(requestedJobs, options, config, settings, producer, status, log);
    } finally {
      await producer.close();
    }
  } finally {
    clearInterval(lockTimer);
    await status.unlockProducer(producerId).catch(() => undefined);
    await closeRedis(redis);
  }
}

async function enqueueJobs(
  requestedJobs: JobName[],
  options: EnqueueCommandOptions,
  config: Config,
  settings: QueueCommandSettings,
  producer: TaskProducer<CopyTask>,
  status: RedisRunStatus,
  log: Logger,
): Promise<number> {
  const identity = storageIdentity(config.destination);
  const destination = describeStorageSection(config.destination);
  const source = describeStorageSection(config.source);
  const database = await connectDatabase(config);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(ExitCode.interrupted);
    log.warn(`${signal}: stopping after the tasks being added; enqueue again to resume (press Ctrl-C again to quit at once)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const reports: JobReport[] = [];
  try {
    const jobs = await resolveJobs(database, requestedJobs);
    const sourceIdentity = storageIdentity(config.source);
    const meta = await status.claim({ destinationIdentity: identity, destination, sourceIdentity, source, createdAt: Date.now() });
    if (meta.destinationIdentity !== identity) {
      throw new UserError(
        `the queue at ${redactUrl(settings.url)} (prefix ${settings.prefix}) holds a run to ${meta.destination}, not to ${destination}: give this destination its own [queue] prefix`,
        'queue.other-destination',
      );
    }
    if (meta.sourceIdentity !== undefined && meta.sourceIdentity !== sourceIdentity) {
      throw new UserError(
        `the queue at ${redactUrl(settings.url)} (prefix ${settings.prefix}) holds a run from ${meta.source}, not from ${source}: fix [source], or give this source its own [queue] prefix`,
        'queue.other-source',
      );
    }
    log.info({ jobs, queue: redactUrl(settings.url), prefix: settings.prefix }, `queueing ${jobs.join(', ')} for ${destination} in ${redactUrl(settings.url)} (prefix ${settings.prefix})`);
    for (const job of jobs) {
      if (stop.signal.aborted) break;
      reports.push(await enqueueJob(job, { database, producer, status, log, identity, config, options, signal: stop.signal }));
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await database.close();
  }
  const waiting = await producer.waiting();
  process.stdout.write(options.json === true ? `${JSON.stringify({ enqueue: reports, waiting })}\n` : `${enqueueTable(reports)}\n`);
  return stop.signal.aborted ? ExitCode.interrupted : ExitCode.ok;
}

interface JobContext {
  database: MastodonDatabase;
  producer: TaskProducer<CopyTask>;
  status: RedisRunStatus;
  log: Logger;
  identity: string;
  config: Config;
  options: EnqueueCommandOptions;
  signal: AbortSignal;
}

async function enqueueJob(job: JobName, context: JobContext): Promise<JobReport> {
  const { database, producer, status, log, options, signal } = context;
  const report: JobReport = { job, rows: 0, keys: 0, enqueued: 0, alreadyQueued: 0, state: 'enqueued' };
  const progress = await status.enqueueProgress(job);
  if (progress.finishedAt !== undefined && options.fromStart !== true) {
    log.info(`${job}: an earlier enqueue queued every row (${new Date(progress.finishedAt).toISOString()}); --from-start queues it again`);
    return { ...report, state: 'already-enqueued' };
  }
  let afterId: string | undefined;
  if (progress.startedAt === undefined || options.fromStart === true) {
    await status.startEnqueue(job, await database.countRows(job), progress.startedAt !== undefined);
  } else {
    afterId = progress.cursor;
    if (afterId !== undefined) log.info(`${job}: resuming after row ${afterId}, where the last enqueue stopped`);
  }

  const query = { limit: options.limit, batchSize: context.config.sync.batch_size, ...(afterId !== undefined ? { afterId } : {}) };
  const keep = options.localOnly === true ? (ref: ObjectRef) => !isCachedRemoteMedia(ref.key) : () => true;
  for await (const batch of referencedObjects(database, job, query)) {
    // Whole rows a chunk at a time, each counted with its last row as the cursor: a stop while the
    // queue is full leaves no row half queued, so the next enqueue reads again no task this one
    // added (one the workers finished meanwhile would be queued and counted twice).
    for (const group of wholeRows(batch.refs, producer.chunkSize, keep)) {
      const tasks = group.refs.map((ref): QueuedTask<CopyTask> => ({ id: taskId(context.identity, ref.key), name: job, data: copyTask(ref, context.config) }));
      const result = await producer.add(tasks, signal);
      // Only a row with more keys than a chunk can be cut short: its tasks count, its row does not,
      // and the next enqueue reads it again (and finds them queued).
      const whole = !result.interrupted;
      await status.batchEnqueued(job, {
        rows: whole ? group.rows : 0,
        referenced: whole ? tasks.length : 0,
        added: result.added,
        alreadyQueued: whole ? result.alreadyQueued : 0,
        cursor: whole ? group.lastRowId : undefined,
      });
      report.enqueued += result.added;
      if (whole) {
        report.rows += group.rows;
        report.keys += tasks.length;
        report.alreadyQueued += result.alreadyQueued;
      }
      if (signal.aborted) return { ...report, state: 'interrupted' };
    }
  }
  if (options.limit !== undefined && report.rows >= options.limit) {
    log.info(`${job}: stopped at --limit ${options.limit}; enqueue again to go on from there`);
    return { ...report, state: 'partial' };
  }
  await status.finishEnqueue(job);
  log.info(`${job}: ${counted(report.enqueued, 'task')} queued from ${counted(report.rows, 'row')}${report.alreadyQueued > 0 ? ` (${report.alreadyQueued} were still queued)` : ''}`);
  return report;
}

/**
 * `refs` (in row order) cut into runs of whole rows holding at most `maxKeys` of the keys `keep`
 * lets through; a row with more keys than that is a run of its own.
 */
function* wholeRows(refs: readonly ObjectRef[], maxKeys: number, keep: (ref: ObjectRef) => boolean): Generator<{ refs: ObjectRef[]; rows: number; lastRowId: string }> {
  let run: { refs: ObjectRef[]; rows: number; lastRowId: string } | undefined;
  for (let start = 0; start < refs.length; ) {
    const rowId = refs[start]!.rowId;
    let end = start + 1;
    while (end < refs.length && refs[end]!.rowId === rowId) end += 1;
    const rowRefs = refs.slice(start, end).filter(keep);
    start = end;
    if (run !== undefined && run.refs.length + rowRefs.length > maxKeys) {
      yield run;
      run = undefined;
    }
    run ??= { refs: [], rows: 0, lastRowId: rowId };
    run.refs.push(...rowRefs);
    run.rows += 1;
    run.lastRowId = rowId;
  }
  if (run !== undefined) yield run;
}

function copyTask(ref: ObjectRef, config: Config): CopyTask {
  const acl = aclFor(config, ref.private);
  return {
    job: ref.job,
    key: ref.key,
    ...(ref.alternateKey !== undefined ? { alternateKey: ref.alternateKey } : {}),
    required: ref.required,
    ...(acl !== undefined ? { acl } : {}),
  };
}

/** Puts failed tasks back in the queue (of the named jobs, or all), taking them off the failed counts and the latest failures. */
async function retryFailed(producer: TaskProducer<CopyTask>, status: RedisRunStatus, jobs: JobName[], log: Logger, json: boolean): Promise<number> {
  const wanted = (name: string): boolean => jobs.length === 0 || (jobs as string[]).includes(name);
  // Tasks failing again while this runs land at the front of the set: stop after as many as there were.
  let budget = await producer.queue.getFailedCount();
  const retried = new Map<string, number>();
  let skipped = 0;
  while (budget > 0) {
    const page = await producer.queue.getJobs(['failed'], skipped, skipped + 499);
    if (page.length === 0) break;
    budget -= page.length;
    const chosen = page.filter((task) => wanted(task.name));
    skipped += page.length - chosen.length;
    for (const name of new Set(chosen.map((task) => task.name))) {
      const tasks = chosen.filter((task) => task.name === name);
      await status.failuresRetried(name, tasks.map(failureKey));
      for (const task of tasks) await task.retry('failed');
      retried.set(name, (retried.get(name) ?? 0) + tasks.length);
    }
  }
  const total = [...retried.values()].reduce((sum, count) => sum + count, 0);
  log.info(`${counted(total, 'failed task')} back in the queue`);
  process.stdout.write(json ? `${JSON.stringify({ retried: Object.fromEntries(retried) })}\n` : `${[...retried].map(([name, count]) => `${name}: ${count} retried`).join('\n') || 'no failed tasks'}\n`);
  return ExitCode.ok;
}

/** The closing table: one line a job, plus a total. */
function enqueueTable(reports: JobReport[]): string {
  const header = ['job', 'rows', 'keys', 'enqueued', 'already queued', 'state'];
  const rows = reports.map((report) => [report.job, String(report.rows), String(report.keys), String(report.enqueued), String(report.alreadyQueued), report.state]);
  if (reports.length > 1) {
    const total = (pick: (report: JobReport) => number): string => String(reports.reduce((sum, report) => sum + pick(report), 0));
    rows.push(['total', total((r) => r.rows), total((r) => r.keys), total((r) => r.enqueued), total((r) => r.alreadyQueued), '']);
  }
  return textTable(header, rows, [header.length - 1]);
}
