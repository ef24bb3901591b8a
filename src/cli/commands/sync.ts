import { counted } from '../../log.js';
import { loadConfig } from '../../config/load-config.js';
import { ExitCode, UserError } from '../../errors.js';
import type { Journal } from '../../journal/journal.js';
import { RunStats } from '../../stats/run-stats.js';
import { resolveJobs } from '../../sync/plan.js';
import { runSync, type InventoryMode } from '../../sync/run-sync.js';
import { defaultRetryPolicy } from '../../transfer/retry.js';
import { commandLogger, openDatabaseAndCheckStorages, parseJobNames, type CommonOptions } from '../context.js';
import { createDisplay } from '../progress.js';
import { RunDashboard, refuseDashboardFlagsWithoutUi, type DashboardFlags } from '../run-dashboard.js';
import { aclFor } from '../runtime-options.js';
import { journalScope, noRunForPair, openJournal, requireStateFile, statePath, type StateFlags } from '../state-file.js';
import { summaryRecord, summaryTable } from '../summary.js';
import { emptySourceHint } from '../empty-source.js';
import { boundHeapGrowthForCopying } from '../heap-growth.js';
import { untilSignal } from '../until-signal.js';
import { defaultGraceSeconds } from '../option-parsers.js';

export interface SyncCommandOptions extends CommonOptions, DashboardFlags, StateFlags {
  limit?: number;
  dev?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  /** --inventory (true), --no-inventory (false), or neither (auto). */
  inventory?: boolean;
  retryFailed?: boolean;
  /** An ISO 8601 instant, or `last`. */
  since?: string;
  localOnly?: boolean;
  /** Seconds in-flight transfers get after Ctrl-C/SIGTERM. */
  gracePeriod?: number;
}

/** The original tool's dev mode ran a handful of rows; so does ours unless --limit says otherwise. */
const devModeLimit = 10;

/**
 * `--since last` looks back this much further than the last run's start: a row
 * saved just before it (Rails stamps updated_at before the commit) may have
 * become visible only after that run had read past it.
 */
const sinceLastMarginMs = 5 * 60_000;

/** After abandoning transfers, the longest the process lingers once the summary is out. */
const abandonedExitMs = 5000;

/** `--since` as an instant: ISO 8601, UTC unless the value carries an offset. */
function parseSince(value: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value.trim());
  if (iso === null) throw new UserError(`--since must be an ISO 8601 time such as 2025-06-01T12:00:00Z, or "last", not "${value}"`, 'cli.invalid-option');
  const text = value.trim().replace(' ', 'T');
  const date = new Date(iso[4] === undefined ? (iso[1] === undefined ? `${text}T00:00:00Z` : `${text}Z`) : text);
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  // Date rolls a day its month lacks (2025-02-30) over into the next month instead of refusing it.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (Number.isNaN(date.getTime()) || day < 1 || day > daysInMonth) {
    throw new UserError(`--since: "${value}" is not a valid time (no such month, day or hour): give one such as 2025-06-01T12:00:00Z, or "last"`, 'cli.invalid-option');
  }
  return date;
}

export async function syncCommand(jobArguments: string[], options: SyncCommandOptions): Promise<number> {
  refuseDashboardFlagsWithoutUi(options);
  boundHeapGrowthForCopying();
  const requestedJobs = parseJobNames(jobArguments);
  const { config, path: configPath } = await loadConfig({ configPath: options.config, mastodonEnvPath: options.mastodonEnv });
  const dryRun = options.dryRun === true;
  const inventory: InventoryMode = options.inventory === true ? 'always' : options.inventory === false ? 'never' : 'auto';
  const stateFile = statePath(options, config, configPath);
  const readsEarlierRuns = options.retryFailed === true ? '--retry-failed' : options.since === 'last' ? '--since last' : undefined;
  if (stateFile === undefined && (readsEarlierRuns !== undefined || options.inventory === true)) {
    throw new UserError(`${readsEarlierRuns ?? '--inventory'} needs the state file: drop --no-state`, 'journal.required');
  }
  if (stateFile !== undefined && readsEarlierRuns !== undefined) await requireStateFile(stateFile, readsEarlierRuns);
  const since = options.since === undefined || options.since === 'last' ? undefined : parseSince(options.since);

  const interactive = process.stderr.isTTY === true && options.json !== true;
  const display = await createDisplay(interactive, dryRun);
  const dashboard = RunDashboard.for(options, config);
  const log = await commandLogger(options, dashboard.logSink(display.logSink));
  const journal: Journal | undefined = await openJournal(stateFile, dryRun ? 'read' : 'write');
  try {
    const { database, source, destination, checked } = await openDatabaseAndCheckStorages(
      // --concurrency sizes the socket pools too, not just the transfers in flight.
      options.concurrency === undefined ? config : { ...config, sync: { ...config.sync, concurrency: options.concurrency } },
      dryRun ? { mode: 'read' } : { mode: 'write', log },
    );
    try {
      const jobs = await resolveJobs(database, requestedJobs);
      const knownPair = journal?.knowsScope(source.description, destination.description) === true;
      if (options.retryFailed === true && !knownPair) throw noRunForPair(stateFile!, source, destination, 'journal.unknown-pair', '--retry-failed');
      // A pair the state file does not know yet is entered in it only once both storages have passed their checks.
      if (journal !== undefined && !knownPair) await checked;
      const scope = journalScope(journal, source, destination);
      let sinceDate = since;
      if (options.since === 'last') {
        const mark = scope?.sinceLast(jobs, options.localOnly === true);
        if (mark === undefined) {
          throw new UserError(
            `--since last: the state file ${stateFile} records no completed sync of ${jobs.join(', ')} from ${source.description} to ${destination.description}: run a full sync first`,
            'journal.no-completed-run',
          );
        }
        sinceDate = new Date(mark - sinceLastMarginMs);
      }
      const stats = new RunStats();
      let dashboardUrl: string | undefined;
      let running = true;
      // Nothing is shown before the storages have passed their checks: a bad bucket is the one line the admin sees.
      const ready = checked.then(async () => {
        if (!running) return;
        // First, so that a port in use is the one line the admin sees.
        dashboardUrl = await dashboard.start(stats);
        log.info(
          { jobs, source: source.description, destination: destination.description, dryRun, state: stateFile ?? null, since: sinceDate?.toISOString() },
          `${dryRun ? 'dry run: ' : ''}${options.retryFailed === true ? 'retrying failed and missing keys of' : 'copying'} ${jobs.join(', ')} from ${source.description} to ${destination.description}` +
            (sinceDate !== undefined ? `, rows changed since ${sinceDate.toISOString()}` : '') +
            (options.localOnly === true ? ', leaving out cache/' : ''),
        );
        if (dashboardUrl !== undefined) log.info(`dashboard at ${dashboardUrl}`);
        display.attach(stats, log);
      });
      ready.catch(() => undefined);
      const stop = new AbortController();
      const graceSeconds = options.gracePeriod ?? defaultGraceSeconds;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stop.signal.aborted) {
          // Quit at once, but keep what the journal has learned: those objects are not copied again.
          journal?.close();
          process.exit(ExitCode.interrupted);
        }
        log.warn(`${signal}: finishing the objects in flight (at most ${graceSeconds} s); press Ctrl-C again to quit at once`);
        stop.abort();
      };
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      let result;
      try {
        result = await runSync(
          { database, source, destination, stats, log, signal: stop.signal, ready, ...(scope !== undefined ? { journal: scope } : {}) },
          {
            jobs,
            query: {
              limit: options.limit ?? (options.dev === true ? devModeLimit : undefined),
              batchSize: config.sync.batch_size,
              ...(sinceDate !== undefined ? { since: sinceDate } : {}),
            },
            concurrency: options.concurrency ?? config.sync.concurrency,
            dryRun,
            // A directory keeps no ACL: nothing to record or to correct.
            aclFor: (isPrivate) => (destination.capabilities.acls ? aclFor(config, isPrivate) : undefined),
            defaultCacheControl: config.sync.cache_control,
            storageClass: config.sync.storage_class,
            retry: defaultRetryPolicy,
            localOnly: options.localOnly === true,
            retryFailed: options.retryFailed === true,
            inventory,
            graceMs: graceSeconds * 1000,
          },
        );
      } finally {
        running = false;
        display.stop();
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        // Everything learned is on disk before the summary: a kill from here on loses nothing.
        journal?.close();
      }
      const jobsRun = stats.jobs();
      const fromJournal = jobsRun.reduce((sum, counters) => sum + (counters.fromJournal ?? 0), 0);
      if (fromJournal > 0) log.info(`${counted(fromJournal, 'object')} settled by the state file ${stateFile} without a request`);
      if (stats.throttleEvents > 0) log.warn(`the storages throttled ${stats.throttleEvents} requests; lower [sync] concurrency if this keeps happening`);
      process.stdout.write(options.json === true ? `${JSON.stringify(summaryRecord(jobsRun, dryRun))}\n` : `${summaryTable(jobsRun, dryRun)}\n`);
      // Nothing was settled, but a cron job must not take a run that found nothing to copy for a success.
      if (result.emptySource !== undefined) {
        throw new UserError(`${await emptySourceHint(config.source, source.description, result.emptySource)}; nothing was recorded as missing`, 'sync.empty-source');
      }
      if (dashboardUrl !== undefined && options.uiLinger === true && result.status === 'completed') {
        log.info(`run finished; the dashboard stays at ${dashboardUrl} until Ctrl-C`);
        await untilSignal();
      }
      if (result.status === 'abandoned') {
        // Abandoned transfers may still hold a socket or a file open; they must not keep the process alive.
        setTimeout(() => process.exit(ExitCode.interrupted), abandonedExitMs).unref();
      }
      if (result.status !== 'completed') return ExitCode.interrupted;
      return stats.failed > 0 ? ExitCode.someObjectsFailed : ExitCode.ok;
    } finally {
      await Promise.all([source.close(), destination.close(), dashboard.close()]);
      await database.close();
    }
  } finally {
    journal?.close();
  }
}
