import { loadConfig, loadDatabaseOnlyConfig } from '../config/load-config.js';
import type { Config, DatabaseOnlyConfig } from '../config/schema.js';
import { ExitCode, UserError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { MastodonDatabase } from '../mastodon/database.js';
import { isJobName, jobNames, type JobName } from '../mastodon/object-ref.js';
import { isTransientError } from '../storage/errors.js';
import type { DirectoryWriteReports } from '../storage/storage-options.js';
import type { RunWrites, Storage } from '../storage/storage.js';
import { RetriesExhausted, withRetry, type RetryPolicy } from '../transfer/retry.js';
import { databaseThroughTunnel, tunnelOptionsFromConfig, tunnelTargetFromDatabase } from '../tunnel/tunnel-config.js';
import { databaseOptions, runWrites, storageOptions } from './runtime-options.js';

/** The options several commands share; each takes only those that change what it does (see main.ts). */
export interface CommonOptions {
  config?: string;
  mastodonEnv?: string;
  json?: boolean;
  verbose?: boolean;
}

export async function loadCommandConfig(options: CommonOptions): Promise<Config> {
  return (await loadConfig({ configPath: options.config, mastodonEnvPath: options.mastodonEnv })).config;
}

export async function loadDatabaseCommandConfig(options: CommonOptions): Promise<DatabaseOnlyConfig> {
  return (await loadDatabaseOnlyConfig({ configPath: options.config, mastodonEnvPath: options.mastodonEnv })).config;
}

export function commandLogger(options: CommonOptions & { dev?: boolean }, destination?: NodeJS.WritableStream): Promise<Logger> {
  return createLogger({ json: options.json === true, level: options.verbose === true || options.dev === true ? 'debug' : 'info', destination });
}

/**
 * Ctrl-C or SIGTERM ends a read-only command (verify, orphans) at once with exit 130. Unlike
 * the default death by signal, process.exit runs the 'exit' listeners, which remove the scratch
 * index those commands keep in the temporary directory.
 */
export function exitOnInterrupt(): () => void {
  const exit = (): never => process.exit(ExitCode.interrupted);
  process.once('SIGINT', exit).once('SIGTERM', exit);
  return () => {
    process.off('SIGINT', exit).off('SIGTERM', exit);
  };
}

export function parseJobNames(names: readonly string[]): JobName[] {
  for (const name of names) {
    if (!isJobName(name)) throw new UserError(`unknown job "${name}": the jobs are ${jobNames.join(', ')}`, 'job.unknown');
  }
  return names as JobName[];
}

// The libraries behind the database, the storages and the tunnel are imported where they are first
// used: a command loads only what it touches (`keys` no AWS SDK, `worker` no pg, no run without a
// [tunnel] ssh2).

/** Connects, through the SSH tunnel when [tunnel] has a host (the tunnel closes with the database). */
export async function connectDatabase(config: Pick<Config, 'database' | 'tunnel'>): Promise<MastodonDatabase> {
  const { MastodonDatabase } = await import('../mastodon/database.js');
  const tunnelOptions = tunnelOptionsFromConfig(config.tunnel);
  if (tunnelOptions === undefined) return MastodonDatabase.connect(databaseOptions(config.database));
  const { openSshTunnel } = await import('../tunnel/ssh-tunnel.js');
  const tunnel = await openSshTunnel(tunnelOptions, tunnelTargetFromDatabase(config.database));
  try {
    return await MastodonDatabase.connect({ ...databaseOptions(databaseThroughTunnel(config.database, tunnel)), afterClose: () => tunnel.close() });
  } catch (error) {
    await tunnel.close();
    throw error;
  }
}

/**
 * How a command uses the destination. `read` (verify, dry runs) leaves it as it is. `write` checks it with
 * a probe, and a listing of a directory destination removes the temporary files interrupted writes left,
 * each logged to `log`.
 */
export type DestinationUse = { mode: 'read' } | { mode: 'write'; log: Logger };

/**
 * Opens both storages and checks them before any object moves: a bad bucket fails in the first second, not after an hour.
 * The two checks run at once (each is one to three round trips); when both fail, the source's error is the one reported.
 */
export async function openStorages(config: Config, destinationUse: DestinationUse): Promise<{ source: Storage; destination: Storage }> {
  const storages = await createStorages(config, destinationUse);
  try {
    await checkStorages(storages, destinationUse.mode, runWrites(config));
  } catch (error) {
    await Promise.all([storages.source.close(), storages.destination.close()]);
    throw error;
  }
  return storages;
}

async function createStorages(config: Config, destinationUse: DestinationUse): Promise<{ source: Storage; destination: Storage }> {
  const sourceOptions = storageOptions(config.source, config);
  const destinationOptions = storageOptions(config.destination, config, destinationUse.mode === 'write' ? directoryWriteReports(destinationUse.log) : {});
  const [{ createStorage }, { destinationPlacement }] = await Promise.all([import('../storage/create-storage.js'), import('../storage/storage-location.js')]);
  const placement = await destinationPlacement(sourceOptions, destinationOptions);
  if (placement === 'same') {
    throw new UserError('[source] and [destination] are the same location: point [destination] at the new storage', 'config.same-location');
  }
  if (placement === 'inside') {
    throw new UserError(
      "[destination] lies inside [source] (the same bucket under the source's prefix, or a folder of the source's directory), and this tool never writes to the source: point [destination] at another bucket, prefix or directory",
      'config.same-location',
    );
  }
  return { source: createStorage(sourceOptions), destination: createStorage(destinationOptions) };
}

function directoryWriteReports(log: Logger): DirectoryWriteReports {
  return {
    removeAbandonedPartials: ({ file, reason }) => log.info({ file }, `removed ${file}, left by an interrupted write (${reason})`),
    // Mastodon deletes and adds files in these folders as their owner: root's would break both, long after this run.
    foreignOwner: ({ directory, uid, gid }) =>
      log.warn(
        `[destination] directory ${directory} belongs to uid ${uid} (gid ${gid}), and this run is root's: what it writes will be root's, and Mastodon, if it runs as that user, can then neither delete those files nor add its own beside them: run the tool as that user (sudo -u <user>), or chown -R ${uid}:${gid} ${directory} after the run`,
      ),
  };
}

async function checkStorages({ source, destination }: { source: Storage; destination: Storage }, destinationMode: 'read' | 'write', writes: RunWrites): Promise<void> {
  const checks = await Promise.allSettled([checkStorage(source, 'read'), checkStorage(destination, destinationMode, writes)]);
  const failed = checks.findIndex((check) => check.status === 'rejected');
  if (failed === -1) return;
  throw inSection(failed === 0 ? 'source' : 'destination', (checks[failed] as PromiseRejectedResult).reason);
}

/** Both sides are often on one provider: a storage's one-line error names the section to correct. */
export function inSection(section: 'source' | 'destination', error: unknown): unknown {
  return error instanceof UserError ? new UserError(`[${section}] ${error.message}`, error.code) : error;
}

/**
 * A check that met a 5xx, throttling or a dropped connection is tried again, as every request of a
 * run would be; a refusal (credentials, bucket, region) or an endpoint that cannot be reached at all
 * is a config error and reported at once.
 */
const checkRetry: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 2000 };

async function checkStorage(storage: Storage, mode: 'read' | 'write', writes?: RunWrites): Promise<void> {
  const mayPass = (error: unknown): boolean => error instanceof UserError && error.code === 'storage.unusable' && isTransientError(error.cause);
  try {
    await withRetry(() => storage.check(mode, writes), checkRetry, mayPass);
  } catch (error) {
    throw error instanceof RetriesExhausted ? error.lastError : error;
  }
}

/** The database and both storages, the storages' checks still running. */
export interface OpenedForSync {
  database: MastodonDatabase;
  source: Storage;
  destination: Storage;
  /**
   * Settles when both storages have passed their checks, and rejects with the
   * one-line error of the first that failed. Closing the storages stays with the caller.
   */
  checked: Promise<void>;
}

/**
 * The database connected and both storages created, their checks started but
 * not awaited: a run can read its rows and its state file while the checks
 * (a few round trips each) are under way, as long as it touches no storage
 * before `checked` settles. A database failure is reported first.
 */
export async function openDatabaseAndCheckStorages(config: Config, destinationUse: DestinationUse): Promise<OpenedForSync> {
  const checking = createStorages(config, destinationUse).then((storages) => {
    const checked = checkStorages(storages, destinationUse.mode, runWrites(config));
    // Awaited later, perhaps after another error has ended the command: never an unhandled rejection.
    checked.catch(() => undefined);
    return { ...storages, checked };
  });
  const [database, storages] = await Promise.allSettled([connectDatabase(config), checking]);
  if (database.status === 'fulfilled' && storages.status === 'fulfilled') return { database: database.value, ...storages.value };
  await Promise.all([
    database.status === 'fulfilled' ? database.value.close() : undefined,
    storages.status === 'fulfilled' ? Promise.all([storages.value.source.close(), storages.value.destination.close()]) : undefined,
  ]);
  throw database.status === 'rejected' ? database.reason : (storages as PromiseRejectedResult).reason;
}

/**
 * The database and both storages, opened at once: connecting (through a tunnel, with TLS) and checking
 * the storages (a few round trips each) need not wait for one another. When several fail, the error
 * reported is the one opening them in turn would have met first: the database's, then the storages'.
 */
export async function openDatabaseAndStorages(
  config: Config,
  destinationUse: DestinationUse,
): Promise<{ database: MastodonDatabase; source: Storage; destination: Storage }> {
  const { checked, ...opened } = await openDatabaseAndCheckStorages(config, destinationUse);
  try {
    await checked;
  } catch (error) {
    await Promise.all([opened.source.close(), opened.destination.close(), opened.database.close()]);
    throw error;
  }
  return opened;
}
