import { UserError } from '../errors.js';
import type { JobCounters, ObjectEvent } from '../stats/run-stats.js';
import { answerWithin, redisStoppedAnswering } from './redis-client.js';
import type { QueuedFailure, RedisRunStatus } from './redis-run-status.js';

/** The same shape as the dashboard's `DashboardChange` (src/web/dashboard-source.ts). */
export type QueueDashboardChange = { type: 'job'; job: string } | { type: 'object'; event: ObjectEvent };

/**
 * A `DashboardSource` (src/web/dashboard-source.ts) over the counters in Redis,
 * for a dashboard that watches workers on other machines. Declared here by
 * shape, so that queue/ does not import web/; web's type accepts it as is.
 * While Redis does not answer, every read rejects with the same UserError.
 */
export interface RedisDashboardSource {
  jobs(): Promise<readonly Readonly<JobCounters>[]>;
  failures(filter: { job?: string; limit: number }): Promise<readonly QueuedFailure[]>;
  /** What every worker counted in Redis. */
  throttleEvents(): Promise<number>;
  /** False: workers count outcomes in Redis, not how long each object took. */
  readonly timesObjects: false;
  subscribe(listener: (change: QueueDashboardChange) => void): () => void;
  /**
   * Any other read of the run's Redis (bull-board's), under the same bound as the dashboard's own:
   * rejects with the same UserError at once while Redis does not answer, and marks it so when the
   * read goes unanswered.
   */
  read<T>(query: () => Promise<T>): Promise<T>;
  /** Stops polling Redis (subscribers hear nothing more). */
  close(): void;
}

export interface RedisDashboardSourceOptions {
  /** The queue's Redis, for the line that says it stopped answering (its password redacted). */
  url: string;
  /** How often Redis is read for changes while someone listens. @defaultValue 1000 */
  pollMs?: number;
  /**
   * How long a read may wait for Redis before the dashboard says Redis is unreachable: well under
   * Prometheus's default scrape timeout (10 s), and soon enough that the page, which pushes every
   * second, does not go on showing old counts as live for long. @defaultValue 3000
   */
  answerTimeoutMs?: number;
  /** Hears Redis stop answering (with the line the dashboard shows), then answer again (undefined). */
  onAvailabilityChange?: (problem: UserError | undefined) => void;
  /** Hears a failed poll other than Redis not answering; the next poll tries again. */
  onError?: (error: unknown) => void;
}

/** Failures pushed at most per poll; the rest are still in `failures()`. */
const maxPushedFailures = 100;

/**
 * Adapts `status` to the dashboard. Reads go to Redis each time; changes are
 * found by polling while at least one listener is subscribed: a job that
 * appears or finishes, and each failed or missing object recorded since.
 *
 * A read Redis leaves unanswered for `answerTimeoutMs` marks it unreachable: from then on reads
 * fail at once instead of piling more commands behind the unanswered ones, while one probe waits
 * for Redis (the client reconnects on its own); its answer makes the source readable again.
 */
export function redisDashboardSource(status: RedisRunStatus, options: RedisDashboardSourceOptions): RedisDashboardSource {
  const listeners = new Set<(change: QueueDashboardChange) => void>();
  const finished = new Map<string, number | undefined>();
  const pollMs = options.pollMs ?? 1000;
  const answerTimeoutMs = options.answerTimeoutMs ?? 3000;
  let failuresSeen: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;
  /** Why Redis cannot be read right now; undefined while it answers. */
  let unreachable: UserError | undefined;

  const emit = (change: QueueDashboardChange): void => {
    for (const listener of listeners) listener(change);
  };

  function lost(problem: UserError): void {
    if (unreachable !== undefined) return;
    unreachable = problem;
    options.onAvailabilityChange?.(problem);
    void probe();
  }

  /** Waits, without a bound, for Redis to answer again; tries again after a poll interval should the wait itself fail. */
  async function probe(): Promise<void> {
    while (!closed) {
      try {
        await status.failureTotal();
        unreachable = undefined;
        options.onAvailabilityChange?.(undefined);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, pollMs).unref());
      }
    }
  }

  async function read<T>(query: () => Promise<T>): Promise<T> {
    if (unreachable !== undefined) throw unreachable;
    try {
      return await answerWithin(query(), answerTimeoutMs, () => redisStoppedAnswering(options.url, answerTimeoutMs, '; the dashboard picks up again by itself once it answers'));
    } catch (error) {
      if (isUnresponsive(error)) lost(error);
      throw error;
    }
  }

  async function poll(): Promise<void> {
    if (polling || unreachable !== undefined) return;
    polling = true;
    try {
      for (const counters of await read(() => status.jobs())) {
        const known = finished.has(counters.job);
        if (!known || finished.get(counters.job) !== counters.finishedAt) {
          finished.set(counters.job, counters.finishedAt);
          emit({ type: 'job', job: counters.job });
        }
      }
      const total = await read(() => status.failureTotal());
      const seen = failuresSeen;
      if (seen !== undefined && total > seen) {
        const fresh = await read(() => status.recentFailures(Math.min(total - seen, maxPushedFailures)));
        for (const failure of fresh.reverse()) emit({ type: 'object', event: { job: failure.job, key: failure.key, outcome: failure.outcome, bytes: 0, reason: failure.reason } });
      }
      failuresSeen = total;
    } catch (error) {
      if (!isUnresponsive(error)) options.onError?.(error);
    } finally {
      polling = false;
    }
  }

  function start(): void {
    if (timer !== undefined || closed) return;
    void poll();
    timer = setInterval(() => void poll(), pollMs);
    timer.unref();
  }

  function stop(): void {
    clearInterval(timer);
    timer = undefined;
  }

  return {
    jobs: () => read(() => status.jobs()),
    failures: (filter) => read(() => status.recentFailures(filter.limit, filter.job)),
    throttleEvents: () => read(() => status.throttleEvents()),
    timesObjects: false,
    read,
    subscribe(listener) {
      listeners.add(listener);
      start();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    close() {
      closed = true;
      listeners.clear();
      stop();
    },
  };
}

function isUnresponsive(error: unknown): error is UserError {
  return error instanceof UserError && error.code === 'queue.unresponsive';
}
