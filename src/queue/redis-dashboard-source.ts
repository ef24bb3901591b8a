import type { JobCounters, ObjectEvent } from '../stats/run-stats.js';
import type { QueuedFailure, RedisRunStatus } from './redis-run-status.js';

/** The same shape as the dashboard's `DashboardChange` (src/web/dashboard-source.ts). */
export type QueueDashboardChange = { type: 'job'; job: string } | { type: 'object'; event: ObjectEvent };

/**
 * A `DashboardSource` (src/web/dashboard-source.ts) over the counters in Redis,
 * for a dashboard that watches workers on other machines. Declared here by
 * shape, so that queue/ does not import web/; web's type accepts it as is.
 */
export interface RedisDashboardSource {
  jobs(): Promise<readonly Readonly<JobCounters>[]>;
  failures(filter: { job?: string; limit: number }): Promise<readonly QueuedFailure[]>;
  /** What every worker counted in Redis. */
  throttleEvents(): Promise<number>;
  subscribe(listener: (change: QueueDashboardChange) => void): () => void;
  /** Stops polling Redis (subscribers hear nothing more). */
  close(): void;
}

export interface RedisDashboardSourceOptions {
  /** How often Redis is read for changes while someone listens. @defaultValue 1000 */
  pollMs?: number;
  /** Hears a failed poll (Redis away); the next poll tries again. */
  onError?: (error: unknown) => void;
}

/** Failures pushed at most per poll; the rest are still in `failures()`. */
const maxPushedFailures = 100;

/**
 * Adapts `status` to the dashboard. Reads go to Redis each time; changes are
 * found by polling while at least one listener is subscribed: a job that
 * appears or finishes, and each failed or missing object recorded since.
 */
export function redisDashboardSource(status: RedisRunStatus, options: RedisDashboardSourceOptions = {}): RedisDashboardSource {
  const listeners = new Set<(change: QueueDashboardChange) => void>();
  const finished = new Map<string, number | undefined>();
  let failuresSeen: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;

  const emit = (change: QueueDashboardChange): void => {
    for (const listener of listeners) listener(change);
  };

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      for (const counters of await status.jobs()) {
        const known = finished.has(counters.job);
        if (!known || finished.get(counters.job) !== counters.finishedAt) {
          finished.set(counters.job, counters.finishedAt);
          emit({ type: 'job', job: counters.job });
        }
      }
      const total = await status.failureTotal();
      if (failuresSeen !== undefined && total > failuresSeen) {
        const fresh = await status.recentFailures(Math.min(total - failuresSeen, maxPushedFailures));
        for (const failure of fresh.reverse()) emit({ type: 'object', event: { job: failure.job, key: failure.key, outcome: failure.outcome, bytes: 0, reason: failure.reason } });
      }
      failuresSeen = total;
    } catch (error) {
      options.onError?.(error);
    } finally {
      polling = false;
    }
  }

  function start(): void {
    if (timer !== undefined || closed) return;
    void poll();
    timer = setInterval(() => void poll(), options.pollMs ?? 1000);
    timer.unref();
  }

  function stop(): void {
    clearInterval(timer);
    timer = undefined;
  }

  return {
    jobs: () => status.jobs(),
    failures: (filter) => status.recentFailures(filter.limit, filter.job),
    throttleEvents: () => status.throttleEvents(),
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
