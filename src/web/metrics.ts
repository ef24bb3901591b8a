import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { outcomes, type JobCounters, type Outcome } from '../stats/run-stats.js';
import type { DashboardSource } from './dashboard-source.js';

const prefix = 'mastodon_s3_sync_';

/**
 * The counter each outcome label reads. A Prometheus counter must never go down (rate() reads a
 * drop as a restart), so `failed` counts every failure, retried ones included; failures_retried_total
 * says how many of them were retried.
 */
const outcomeCount: Record<Outcome, (counters: Readonly<JobCounters>) => number> = {
  copied: (counters) => counters.copied,
  skipped: (counters) => counters.skipped,
  missing: (counters) => counters.missing,
  'absent-style': (counters) => counters.absentStyle,
  failed: (counters) => counters.failed + (counters.failedRetried ?? 0),
};

/**
 * Prometheus metrics for `/metrics`, in a registry of their own so that embedding this tool never
 * mixes with (or is polluted by) prom-client's global registry.
 *
 * Object and byte counts are read from the source at scrape time, so they always equal what the
 * page and the summary show; durations, which only an in-process run measures, are pushed in as
 * they happen.
 */
export class SyncMetrics {
  readonly registry = new Registry();
  readonly #unsubscribe: () => void;

  constructor(source: DashboardSource) {
    const registers = [this.registry];
    // prom-client collects every metric of a scrape at once: they share one read of the jobs (one
    // read of Redis under `ui --queue` instead of four), and so one snapshot, which keeps
    // objects_total{outcome="failed"} - failures_retried_total true.
    let reading: Promise<readonly Readonly<JobCounters>[]> | undefined;
    const scrapedJobs = (): Promise<readonly Readonly<JobCounters>[]> =>
      (reading ??= source.jobs().finally(() => {
        reading = undefined;
      }));
    new Counter({
      name: `${prefix}objects_total`,
      help: 'Objects finished, by job and outcome (copied, skipped, missing, absent-style, failed).',
      labelNames: ['job', 'outcome'],
      registers,
      async collect() {
        const jobs = await scrapedJobs();
        this.reset();
        for (const counters of jobs) for (const outcome of outcomes) this.inc({ job: counters.job, outcome }, outcomeCount[outcome](counters));
      },
    });
    new Counter({
      name: `${prefix}failures_retried_total`,
      help: 'Failed objects put back in the queue for another try (enqueue --retry-failed), by job: failed ones not retried = objects_total{outcome="failed"} - this.',
      labelNames: ['job'],
      registers,
      async collect() {
        const jobs = await scrapedJobs();
        this.reset();
        // Only a queued run retries failures apart from its other outcomes.
        for (const counters of jobs) if (counters.failedRetried !== undefined) this.inc({ job: counters.job }, counters.failedRetried);
      },
    });
    new Counter({
      name: `${prefix}bytes_total`,
      help: 'Bytes written to the destination (or that would be, in a dry run), by job.',
      labelNames: ['job'],
      registers,
      async collect() {
        const jobs = await scrapedJobs();
        this.reset();
        for (const counters of jobs) this.inc({ job: counters.job }, counters.bytes);
      },
    });
    new Gauge({
      name: `${prefix}transfers_in_flight`,
      help: 'Objects being transferred right now, by job.',
      labelNames: ['job'],
      registers,
      async collect() {
        const jobs = await scrapedJobs();
        this.reset();
        for (const counters of jobs) this.set({ job: counters.job }, counters.inFlight);
      },
    });
    const objectSeconds = source.timesObjects
      ? new Histogram({
          name: `${prefix}object_seconds`,
          help: 'Time to move one object, from the start of its transfer to its outcome, retries included.',
          labelNames: ['job', 'outcome'],
          buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
          registers,
        })
      : undefined;
    new Counter({
      name: `${prefix}throttle_events_total`,
      help: 'Requests a storage refused for rate limiting (SlowDown, 429), by every process of the run.',
      registers,
      async collect() {
        const count = await source.throttleEvents();
        this.reset();
        this.inc(count);
      },
    });
    // The changes only feed the histogram.
    this.#unsubscribe =
      objectSeconds === undefined
        ? () => undefined
        : source.subscribe((change) => {
            if (change.type === 'object' && change.event.durationMs !== undefined) objectSeconds.observe({ job: change.event.job, outcome: change.event.outcome }, change.event.durationMs / 1000);
          });
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.#unsubscribe();
  }
}
