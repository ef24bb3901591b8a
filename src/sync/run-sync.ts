import type { Logger } from '../log.js';
import type { MastodonDatabase, RowQuery } from '../mastodon/database.js';
import type { JobName, ObjectRef } from '../mastodon/object-ref.js';
import { runPool } from '../queue/in-process-pool.js';
import type { RunStats } from '../stats/run-stats.js';
import type { Acl, Storage } from '../storage/storage.js';
import { copyObject, type CopyTask } from '../transfer/copy-object.js';
import type { RetryPolicy } from '../transfer/retry.js';
import { referencedObjects } from './plan.js';

export interface SyncOptions {
  jobs: JobName[];
  query: RowQuery;
  concurrency: number;
  dryRun: boolean;
  /** The ACL an object gets, from the admin's choice and whether Mastodon keeps it private. */
  aclFor: (isPrivate: boolean) => Acl | undefined;
  defaultCacheControl: string;
  storageClass?: string;
  retry: RetryPolicy;
}

export interface SyncDependencies {
  database: MastodonDatabase;
  source: Storage;
  destination: Storage;
  stats: RunStats;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: no new object starts, in-flight ones finish. */
  signal?: AbortSignal;
}

/** One run: each job in turn, its objects copied `concurrency` at a time. */
export async function runSync(dependencies: SyncDependencies, options: SyncOptions): Promise<void> {
  const { database, stats, log, signal } = dependencies;
  for (const job of options.jobs) {
    if (signal?.aborted === true) break;
    stats.startJob(job, await database.countRows(job, options.query));
    const tasks = copyTasks(database, job, options, stats);
    await runPool(
      tasks,
      options.concurrency,
      async (task) => {
        const event = await copyObject(task, {
          source: dependencies.source,
          destination: dependencies.destination,
          stats,
          dryRun: options.dryRun,
          defaultCacheControl: options.defaultCacheControl,
          storageClass: options.storageClass,
          retry: options.retry,
        });
        if (event.outcome === 'failed') log.error({ job, key: event.key, reason: event.reason }, 'copy failed');
        else if (event.outcome === 'missing') log.warn({ job, key: event.key, reason: event.reason }, 'original missing in source');
        else if (event.outcome === 'absent-style') log.debug({ job, key: event.key }, 'derived style absent in source');
        else if (event.foundAt !== undefined) log.info({ job, key: event.key, foundAt: event.foundAt }, 'found under the other cache/ variant; written where Mastodon expects it');
      },
      () => signal?.aborted === true,
    );
    stats.finishJob(job);
  }
}

async function* copyTasks(database: MastodonDatabase, job: JobName, options: SyncOptions, stats: RunStats): AsyncGenerator<CopyTask> {
  for await (const batch of referencedObjects(database, job, options.query)) {
    stats.rowsRead(job, batch.rows, batch.refs.length);
    for (const ref of batch.refs) yield toCopyTask(ref, options);
  }
}

function toCopyTask(ref: ObjectRef, options: SyncOptions): CopyTask {
  return { job: ref.job, key: ref.key, alternateKey: ref.alternateKey, required: ref.required, acl: options.aclFor(ref.private) };
}
