import type { Redis } from 'ioredis';
import type { JobCounters, ObjectEvent, Outcome } from '../stats/run-stats.js';
import type { TaskLock } from './queue-worker.js';

/** What `enqueue` wrote down about the run, so that every worker can check it copies to the same place. */
export interface RunMeta {
  /** Bucket and prefix (or `fs` and prefix) of the destination: part of every task id. */
  destinationIdentity: string;
  /** The destination as the log shows it. */
  destination: string;
  /** Bucket and prefix of the source, which every worker must read; absent from runs recorded by versions before it. */
  sourceIdentity?: string;
  source: string;
  createdAt: number;
}

/** One job's counters as every machine sees them: the in-process `JobCounters`, plus what only the queue knows. */
export interface RedisJobCounters extends JobCounters {
  /** Keys the rows read so far reference (`keys` counts only those this run added to the queue). */
  referenced: number;
  /** Keys that were not added because the queue still held their task. */
  alreadyQueued: number;
  /** `enqueue` has read every row of the job. */
  enqueued: boolean;
}

/** A failed or missing object, newest first in `recentFailures`. */
export interface QueuedFailure {
  job: string;
  key: string;
  outcome: 'failed' | 'missing';
  reason: string;
  /** Milliseconds since the epoch. */
  time: number;
}

/** A worker process, as its last heartbeat described it. */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  startedAt: number;
  beatAt: number;
  /** Transfers in flight right now, by job. */
  inFlight: Record<string, number>;
  /** Objects this worker has finished since it started. */
  done: number;
}

/** Where `enqueue` stopped reading a job, so that a restarted producer resumes instead of queueing finished work again. */
export interface EnqueueProgress {
  /** The last row id whose keys are all in the queue. */
  cursor?: string;
  startedAt?: number;
  /** Set once every row of the job was read. */
  finishedAt?: number;
}

export interface EnqueuedBatch {
  rows: number;
  /** Keys the rows reference (after --local-only). */
  referenced: number;
  added: number;
  alreadyQueued: number;
  /** The last row id of the batch. */
  cursor: string | undefined;
}

export interface RedisRunStatusOptions {
  /** Failed and missing objects kept for the dashboard and `status`. @defaultValue 1000 */
  failureCapacity?: number;
  /** A worker whose heartbeat is older than this is not counted. @defaultValue 15000 */
  heartbeatTtlMs?: number;
}

const outcomeField: Record<Outcome, keyof JobCounters> = {
  copied: 'copied',
  skipped: 'skipped',
  missing: 'missing',
  'absent-style': 'absentStyle',
  failed: 'failed',
};

const numericFields = ['rowsTotal', 'rows', 'referenced', 'keys', 'alreadyQueued', 'copied', 'skipped', 'missing', 'absentStyle', 'failed', 'failedRetried', 'bytes', 'skippedBytes'] as const;

/** Releases the producer lock only when this producer still holds it. */
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Extends the producer lock only when this producer still holds it. */
const extendScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/**
 * Counts one outcome, unless a task lock is given (KEYS[5], token ARGV[8]) and no longer held:
 * checked in the same step as the count, so that no other worker can take the task back in between.
 * KEYS: jobs, the job's hash, failures, failures:total. ARGV: now, job, outcome field,
 * bytes field ('' for none), bytes, failure JSON ('' for none), failure capacity.
 */
const recordScript = `
if KEYS[5] ~= nil and redis.call('GET', KEYS[5]) ~= ARGV[8] then return 0 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('HSET', KEYS[2], 'lastDoneAt', ARGV[1])
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[4], ARGV[5]) end
if ARGV[6] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[6])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[7]) - 1)
  redis.call('INCR', KEYS[4])
end
return 1`;

/**
 * Failed tasks go back to the queue: counts them as retried (HINCRBY failedRetried) and drops their
 * entries from the latest failures, which would otherwise list as failed an object its retry copies.
 * KEYS: failures, the job's hash. ARGV: job, then the tasks' keys. Missing objects stay listed.
 */
const failuresRetriedScript = `
local retried = {}
for i = 2, #ARGV do retried[ARGV[i]] = true end
redis.call('HINCRBY', KEYS[2], 'failedRetried', #ARGV - 1)
local kept = {}
local dropped = 0
for _, text in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local failure = cjson.decode(text)
  if failure.outcome == 'failed' and failure.job == ARGV[1] and retried[failure.key] then dropped = dropped + 1 else kept[#kept + 1] = text end
end
if dropped > 0 then
  redis.call('DEL', KEYS[1])
  for first = 1, #kept, 1000 do redis.call('RPUSH', KEYS[1], unpack(kept, first, math.min(first + 999, #kept))) end
end
return dropped`;

/**
 * The run's counters in Redis, under `<prefix>:status:*`, so that every machine
 * (workers, `status`, the dashboard) sees the same numbers: `enqueue` adds rows
 * and keys, each worker adds one outcome an object (HINCRBY on a hash a job),
 * failed and missing objects go to a capped list (LPUSH + LTRIM), and workers
 * publish their transfers in flight in heartbeats that expire with them.
 */
export class RedisRunStatus {
  readonly #redis: Redis;
  readonly #base: string;
  readonly #failureCapacity: number;
  readonly #heartbeatTtlMs: number;

  constructor(redis: Redis, prefix: string, options: RedisRunStatusOptions = {}) {
    this.#redis = redis;
    this.#base = `${prefix}:status`;
    this.#failureCapacity = options.failureCapacity ?? 1000;
    this.#heartbeatTtlMs = options.heartbeatTtlMs ?? 15_000;
  }

  get heartbeatTtlMs(): number {
    return this.#heartbeatTtlMs;
  }

  // --- the run ---------------------------------------------------------------------------

  /** Writes `meta` unless the run already has one; returns the run's meta either way. */
  async claim(meta: RunMeta): Promise<RunMeta> {
    const key = `${this.#base}:meta`;
    await this.#redis.hsetnx(key, 'run', JSON.stringify(meta));
    return (await this.meta()) ?? meta;
  }

  async meta(): Promise<RunMeta | undefined> {
    const text = await this.#redis.hget(`${this.#base}:meta`, 'run');
    return text === null ? undefined : (JSON.parse(text) as RunMeta);
  }

  /** Takes the producer lock: one `enqueue` at a time per run. Returns the holder's id when another has it. */
  async lockProducer(id: string, ttlMs: number): Promise<string | undefined> {
    const taken = await this.#redis.set(`${this.#base}:producer`, id, 'PX', ttlMs, 'NX');
    if (taken === 'OK') return undefined;
    return (await this.#redis.get(`${this.#base}:producer`)) ?? undefined;
  }

  async extendProducerLock(id: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.eval(extendScript, 1, `${this.#base}:producer`, id, String(ttlMs))) === 1;
  }

  async unlockProducer(id: string): Promise<void> {
    await this.#redis.eval(releaseScript, 1, `${this.#base}:producer`, id);
  }

  // --- the producer ----------------------------------------------------------------------

  async enqueueProgress(job: string): Promise<EnqueueProgress> {
    const [cursor, startedAt, finishedAt] = await this.#redis.hmget(this.#jobKey(job), 'cursor', 'startedAt', 'enqueueFinishedAt');
    return {
      ...(cursor !== null ? { cursor } : {}),
      ...(startedAt !== null ? { startedAt: Number(startedAt) } : {}),
      ...(finishedAt !== null ? { finishedAt: Number(finishedAt) } : {}),
    };
  }

  /**
   * A pass over the job's rows begins: the first one sets its start and row count;
   * a new pass (`--from-start`) adds its rows to the total and forgets the cursor.
   */
  async startEnqueue(job: string, rowsTotal: number, newPass: boolean): Promise<void> {
    const key = this.#jobKey(job);
    const now = Date.now();
    const multi = this.#redis.multi().zadd(`${this.#base}:jobs`, 'NX', now, job).hsetnx(key, 'startedAt', now);
    if (newPass) multi.hdel(key, 'cursor', 'enqueueFinishedAt').hincrby(key, 'rowsTotal', rowsTotal);
    else multi.hsetnx(key, 'rowsTotal', rowsTotal);
    await multi.exec();
  }

  async batchEnqueued(job: string, batch: EnqueuedBatch): Promise<void> {
    const key = this.#jobKey(job);
    const multi = this.#redis
      .multi()
      .hincrby(key, 'rows', batch.rows)
      .hincrby(key, 'referenced', batch.referenced)
      .hincrby(key, 'keys', batch.added)
      .hincrby(key, 'alreadyQueued', batch.alreadyQueued);
    if (batch.cursor !== undefined) multi.hset(key, 'cursor', batch.cursor);
    await multi.exec();
  }

  async finishEnqueue(job: string): Promise<void> {
    await this.#redis.hset(this.#jobKey(job), 'enqueueFinishedAt', Date.now());
  }

  /**
   * The failed tasks of `keys` go back to the queue: their outcome will be counted again. Counted
   * apart rather than taken off `failed`, so that every count in Redis only grows (Prometheus reads
   * a counter that goes down as a restart); `jobs()` gives the failed ones not retried. Their entries
   * leave `recentFailures`. Call it before the tasks go back, so that a retry that fails again at once
   * keeps its new entry.
   */
  async failuresRetried(job: string, keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.#redis.eval(failuresRetriedScript, 2, `${this.#base}:failures`, this.#jobKey(job), job, ...keys);
  }

  // --- the workers -----------------------------------------------------------------------

  /**
   * One object's outcome, in one round trip. With the lock of the task that produced it, counted
   * only while this worker still holds that lock: a worker frozen or cut off from Redis for longer
   * than the lock lasts finds its task run again by another worker, which counts it instead.
   * Returns whether it was counted.
   */
  async record(event: ObjectEvent, lock?: TaskLock): Promise<boolean> {
    const now = Date.now();
    const bytesField = event.bytes > 0 ? ({ copied: 'bytes', skipped: 'skippedBytes' } as Partial<Record<Outcome, string>>)[event.outcome] : undefined;
    const failure: QueuedFailure | undefined =
      event.outcome === 'failed' || event.outcome === 'missing' ? { job: event.job, key: event.key, outcome: event.outcome, reason: event.reason ?? event.outcome, time: now } : undefined;
    const keys = [`${this.#base}:jobs`, this.#jobKey(event.job), `${this.#base}:failures`, `${this.#base}:failures:total`, ...(lock !== undefined ? [lock.key] : [])];
    const counted = await this.#redis.eval(
      recordScript,
      keys.length,
      ...keys,
      now,
      event.job,
      outcomeField[event.outcome],
      bytesField ?? '',
      event.bytes,
      failure === undefined ? '' : JSON.stringify(failure),
      this.#failureCapacity,
      lock?.token ?? '',
    );
    return counted === 1;
  }

  async recordThrottle(): Promise<void> {
    await this.#redis.hincrby(`${this.#base}:meta`, 'throttleEvents', 1);
  }

  async heartbeat(beat: WorkerBeat): Promise<void> {
    const key = `${this.#base}:worker:${beat.id}`;
    await this.#redis
      .multi()
      .set(key, JSON.stringify(beat), 'PX', this.#heartbeatTtlMs)
      .zadd(`${this.#base}:workers`, beat.beatAt, beat.id)
      .zremrangebyscore(`${this.#base}:workers`, '-inf', beat.beatAt - this.#heartbeatTtlMs)
      .exec();
  }

  async workerStopped(id: string): Promise<void> {
    await this.#redis.multi().del(`${this.#base}:worker:${id}`).zrem(`${this.#base}:workers`, id).exec();
  }

  // --- readers ---------------------------------------------------------------------------

  /** Workers whose heartbeat is fresh. */
  async workers(now = Date.now()): Promise<WorkerBeat[]> {
    const ids = await this.#redis.zrangebyscore(`${this.#base}:workers`, now - this.#heartbeatTtlMs, '+inf');
    if (ids.length === 0) return [];
    const texts = await this.#redis.mget(ids.map((id) => `${this.#base}:worker:${id}`));
    return texts.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as WorkerBeat);
  }

  /** Every job of the run, in the order they started, with the transfers the live workers have in flight. */
  async jobs(now = Date.now()): Promise<RedisJobCounters[]> {
    const names = await this.#redis.zrange(`${this.#base}:jobs`, '0', '-1');
    if (names.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const name of names) pipeline.hgetall(this.#jobKey(name));
    const [results, workers] = await Promise.all([pipeline.exec(), this.workers(now)]);
    return names.map((job, index) => {
      const [error, value] = results?.[index] ?? [null, {}];
      if (error !== null) throw error;
      const inFlight = workers.reduce((sum, worker) => sum + (worker.inFlight[job] ?? 0), 0);
      return jobCounters(job, value as Record<string, string>, inFlight);
    });
  }

  /** The latest failed or missing objects, newest first; of one job when `job` is set. */
  async recentFailures(limit: number, job?: string): Promise<QueuedFailure[]> {
    if (limit <= 0) return [];
    const texts = await this.#redis.lrange(`${this.#base}:failures`, 0, job === undefined ? limit - 1 : -1);
    const failures = texts.map((text) => JSON.parse(text) as QueuedFailure);
    return (job === undefined ? failures : failures.filter((failure) => failure.job === job)).slice(0, limit);
  }

  /** Failures recorded since the run began (the list keeps only the latest). */
  async failureTotal(): Promise<number> {
    return Number((await this.#redis.get(`${this.#base}:failures:total`)) ?? 0);
  }

  async throttleEvents(): Promise<number> {
    return Number((await this.#redis.hget(`${this.#base}:meta`, 'throttleEvents')) ?? 0);
  }

  /** Removes every counter of the run (not the queue: `Queue.obliterate` does that). */
  async clear(): Promise<void> {
    const names = await this.#redis.zrange(`${this.#base}:jobs`, '0', '-1');
    const workers = await this.#redis.zrange(`${this.#base}:workers`, '0', '-1');
    await this.#redis.del(
      `${this.#base}:meta`,
      `${this.#base}:jobs`,
      `${this.#base}:failures`,
      `${this.#base}:failures:total`,
      `${this.#base}:workers`,
      `${this.#base}:producer`,
      ...names.map((name) => this.#jobKey(name)),
      ...workers.map((id) => `${this.#base}:worker:${id}`),
    );
  }

  #jobKey(job: string): string {
    return `${this.#base}:job:${job}`;
  }
}

function jobCounters(job: string, hash: Record<string, string>, inFlight: number): RedisJobCounters {
  const number = (field: string): number => Number(hash[field] ?? 0);
  const counts = Object.fromEntries(numericFields.map((field) => [field, number(field)])) as Record<(typeof numericFields)[number], number>;
  // Redis keeps every failure ever counted; a retried one is pending again.
  counts.failed -= counts.failedRetried;
  const done = counts.copied + counts.skipped + counts.missing + counts.absentStyle + counts.failed;
  const enqueueFinishedAt = hash['enqueueFinishedAt'] === undefined ? undefined : Number(hash['enqueueFinishedAt']);
  // Every queued key has its outcome (a task run again after a stall was counted once, when it ended).
  const finished = enqueueFinishedAt !== undefined && done >= counts.keys;
  return {
    job,
    ...counts,
    rowsTotal: hash['rowsTotal'] === undefined ? undefined : counts.rowsTotal,
    inFlight,
    startedAt: number('startedAt'),
    finishedAt: finished ? Math.max(enqueueFinishedAt, number('lastDoneAt')) : undefined,
    enqueued: enqueueFinishedAt !== undefined,
  };
}
