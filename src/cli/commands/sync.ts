import { aclFor } from '../runtime-options.js';
import { RunStats } from '../../stats/run-stats.js';
import { resolveJobs } from '../../sync/plan.js';
import { runSync } from '../../sync/run-sync.js';
import { defaultRetryPolicy } from '../../transfer/retry.js';
import { ExitCode } from '../../errors.js';
import { commandLogger, connectDatabase, loadCommandConfig, openStorages, parseJobNames, type CommonOptions } from '../context.js';
import { createDisplay } from '../progress.js';
import { RunDashboard, type DashboardFlags } from '../run-dashboard.js';
import { summaryRecord, summaryTable } from '../summary.js';

export interface SyncCommandOptions extends CommonOptions, DashboardFlags {
  limit?: number;
  dev?: boolean;
  dryRun?: boolean;
  concurrency?: number;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done).off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done).on('SIGTERM', done);
  });
}

/** The original tool's dev mode ran a handful of rows; so does ours unless --limit says otherwise. */
export const devModeLimit = 10;

export async function syncCommand(jobArguments: string[], options: SyncCommandOptions): Promise<number> {
  const requestedJobs = parseJobNames(jobArguments);
  const config = await loadCommandConfig(options);
  const interactive = process.stderr.isTTY === true && options.json !== true;
  const display = createDisplay(interactive);
  const dashboard = RunDashboard.for(options);
  const log = commandLogger(options, dashboard.logSink(display.logSink));
  const database = await connectDatabase(config);
  try {
    const { source, destination } = await openStorages(config, options.dryRun === true ? 'read' : 'write');
    try {
      const jobs = await resolveJobs(database, requestedJobs);
      const dryRun = options.dryRun === true;
      log.info({ jobs, source: source.description, destination: destination.description, dryRun }, `${dryRun ? 'dry run: ' : ''}copying ${jobs.join(', ')} from ${source.description} to ${destination.description}`);

      const stats = new RunStats();
      const dashboardUrl = await dashboard.start(options, config, stats);
      if (dashboardUrl !== undefined) log.info(`dashboard at ${dashboardUrl}`);
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stop.signal.aborted) process.exit(ExitCode.interrupted);
        log.warn(`${signal}: finishing the objects in flight; press Ctrl-C again to quit at once`);
        stop.abort();
      };
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      display.attach(stats, log);
      try {
        await runSync(
          { database, source, destination, stats, log, signal: stop.signal },
          {
            jobs,
            query: { limit: options.limit ?? (options.dev === true ? devModeLimit : undefined), batchSize: config.sync.batch_size },
            concurrency: options.concurrency ?? config.sync.concurrency,
            dryRun,
            aclFor: (isPrivate) => aclFor(config, isPrivate),
            defaultCacheControl: config.sync.cache_control,
            storageClass: config.sync.storage_class,
            retry: defaultRetryPolicy,
          },
        );
      } finally {
        display.stop();
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      const jobsRun = stats.jobs();
      process.stdout.write(options.json === true ? `${JSON.stringify(summaryRecord(jobsRun, dryRun))}\n` : `${summaryTable(jobsRun, dryRun)}\n`);
      if (dashboardUrl !== undefined && options.uiLinger === true && !stop.signal.aborted) {
        log.info(`run finished; the dashboard stays at ${dashboardUrl} until Ctrl-C`);
        await untilSignal();
      }
      if (stop.signal.aborted) return ExitCode.interrupted;
      return stats.failed > 0 ? ExitCode.someObjectsFailed : ExitCode.ok;
    } finally {
      await Promise.all([source.close(), destination.close(), dashboard.close()]);
    }
  } finally {
    await database.close();
  }
}
