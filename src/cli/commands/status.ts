import { loadQueueViewConfig } from '../../config/load-config.js';
import { ExitCode } from '../../errors.js';
import { counted, redactUrl } from '../../log.js';
import { QueueInspector } from '../../queue/queue-inspector.js';
import { answerWithin, closeRedis, connectRedis, redisStoppedAnswering } from '../../queue/redis-client.js';
import { RedisRunStatus, type RedisJobCounters } from '../../queue/redis-run-status.js';
import type { CommonOptions } from '../context.js';
import { queueSettings, type QueueFlags } from '../queue-options.js';
import { summaryRecord, summaryTable } from '../summary.js';

export interface StatusCommandOptions extends Pick<CommonOptions, 'config' | 'json'>, QueueFlags {
  /** Failed and missing objects to list. */
  failures?: number;
}

const defaultFailures = 10;

/** Where a job stands; `finished-with-failures`: every task has its outcome, some of them failed and not retried. */
type JobState = 'enqueueing' | 'copying' | 'finished' | 'finished-with-failures';

const stateText: Record<JobState, string> = {
  enqueueing: 'enqueue not finished',
  copying: 'queued, copying',
  finished: 'finished',
  'finished-with-failures': 'finished',
};

function jobState(counters: RedisJobCounters): JobState {
  if (counters.finishedAt !== undefined) return counters.failed > 0 ? 'finished-with-failures' : 'finished';
  return counters.enqueued ? 'copying' : 'enqueueing';
}

/**
 * How long status waits for Redis's answers once connected. Long enough to ride out a Redis
 * restart or a network blip (the client tries again after 0.5, 1.5, 3, 5 and 7.5 s), short enough
 * that a person, `watch` or a monitoring script learns within seconds that Redis is away.
 */
const answerTimeoutMs = 10_000;

/** Prints the run's counters from Redis: the queue, the live workers, a line a job, the latest failures. */
export async function statusCommand(options: StatusCommandOptions): Promise<number> {
  const settings = queueSettings(options, await loadQueueViewConfig({ configPath: options.config }, options.queue), 'status');
  const redis = await connectRedis(settings.url);
  const inspector = new QueueInspector(redis, settings.prefix);
  try {
    const status = new RedisRunStatus(redis, settings.prefix);
    const reads = Promise.all([
      status.meta(),
      status.jobs(),
      status.workers(),
      inspector.counts(),
      status.recentFailures(options.failures ?? defaultFailures),
      status.throttleEvents(),
    ]);
    const [meta, jobs, workers, counts, failures, throttled] = await answerWithin(reads, answerTimeoutMs, () => {
      // No goodbye (QUIT) to a Redis that does not answer: the connection is dropped at once.
      redis.disconnect();
      return redisStoppedAnswering(settings.url, answerTimeoutMs, ', then run status again');
    });
    // Failures no `enqueue --retry-failed` put back: exit 1, as sync's, so that a script tells a clean run from one that needs a retry.
    const failed = jobs.reduce((sum, counters) => sum + counters.failed, 0);
    const exitCode = failed > 0 ? ExitCode.someObjectsFailed : ExitCode.ok;
    if (options.json === true) {
      const summary = summaryRecord(jobs, false)['summary'] as Record<string, unknown>[];
      const record = {
        queue: { url: redactUrl(settings.url), prefix: settings.prefix, ...counts },
        run: meta ?? null,
        workers,
        summary: summary.map((entry, index) => ({
          ...entry,
          inFlight: jobs[index]!.inFlight,
          enqueued: jobs[index]!.enqueued,
          finished: jobs[index]!.finishedAt !== undefined,
          state: jobState(jobs[index]!),
        })),
        failures,
        throttleEvents: throttled,
      };
      process.stdout.write(`${JSON.stringify(record)}\n`);
      return exitCode;
    }
    const lines = [
      `queue ${redactUrl(settings.url)} (prefix ${settings.prefix}): ${counts.waiting} waiting, ${counts.active} active, ${counts.delayed} delayed, ${counts.failed} failed`,
    ];
    if (meta !== undefined) lines.push(`run: ${meta.source} → ${meta.destination}, since ${new Date(meta.createdAt).toISOString()}`);
    lines.push(
      workers.length === 0
        ? 'workers: none running'
        : `workers: ${workers.length} (${workers.reduce((sum, worker) => sum + worker.concurrency, 0)} transfers at most): ${workers.map((worker) => `${worker.id} (${Object.values(worker.inFlight).reduce((a, b) => a + b, 0)} in flight)`).join(', ')}`,
    );
    if (jobs.length > 0) {
      lines.push('', summaryTable(jobs, false));
      const states = jobs.map((counters) => `${counters.job}: ${stateText[jobState(counters)]}${counters.failed > 0 ? `, ${counters.failed} failed` : ''}`);
      lines.push('', states.join('; '));
      if (failed > 0) lines.push(`${counted(failed, 'object')} failed: once ${failed === 1 ? 'its cause is' : 'their causes are'} fixed, enqueue --retry-failed queues ${failed === 1 ? 'it' : 'them'} again`);
    } else {
      lines.push('', 'nothing enqueued yet');
    }
    if (throttled > 0) lines.push(`the storages throttled ${throttled} requests`);
    if (failures.length > 0) {
      lines.push('', 'latest failed or missing objects, newest first:');
      for (const failure of failures) lines.push(`  ${new Date(failure.time).toISOString()}  ${failure.outcome.padEnd(7)}  ${failure.job}  ${failure.key}  ${failure.reason}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return exitCode;
  } finally {
    await inspector.close();
    await closeRedis(redis);
  }
}
