import type { ObjectEvent, RunStats } from '../stats/run-stats.js';
import type { DashboardChange, DashboardSource } from './dashboard-source.js';
import { FailureRing } from './failure-ring.js';

export interface RunStatsSource extends DashboardSource {
  /** Stops listening to the stats; the failures seen so far stay readable. */
  detach(): void;
}

/**
 * The in-process run as a dashboard source. It starts recording failures at once, before any
 * dashboard subscribes, so that a page opened late still lists the early ones.
 */
export function runStatsSource(stats: RunStats, options: { failureCapacity?: number } = {}): RunStatsSource {
  const failures = new FailureRing(options.failureCapacity);
  const onObject = (event: ObjectEvent): void => {
    if (event.outcome !== 'failed' && event.outcome !== 'missing') return;
    failures.push({ job: event.job, key: event.key, outcome: event.outcome, reason: event.reason ?? event.outcome, time: Date.now() });
  };
  stats.on('object', onObject);

  return {
    jobs: async () => stats.jobs(),
    failures: async (filter) => failures.latest(filter),
    throttleEvents: async () => stats.throttleEvents,
    timesObjects: true,
    subscribe(listener: (change: DashboardChange) => void) {
      const onJob = (counters: { job: string }): void => listener({ type: 'job', job: counters.job });
      const onAnyObject = (event: ObjectEvent): void => listener({ type: 'object', event });
      stats.on('job', onJob).on('object', onAnyObject);
      return () => {
        stats.off('job', onJob).off('object', onAnyObject);
      };
    },
    detach() {
      stats.off('object', onObject);
    },
  };
}
