import { loadConfig, loadDatabaseOnlyConfig } from '../config/load-config.js';
import type { Config, DatabaseOnlyConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { MastodonDatabase } from '../mastodon/database.js';
import { isJobName, jobNames, type JobName } from '../mastodon/object-ref.js';
import { createStorage } from '../storage/create-storage.js';
import type { Storage } from '../storage/storage.js';
import { openSshTunnel } from '../tunnel/ssh-tunnel.js';
import { databaseThroughTunnel, tunnelOptionsFromConfig, tunnelTargetFromDatabase } from '../tunnel/tunnel-config.js';
import { databaseOptions, storageOptions } from './runtime-options.js';

/** Options every command takes. */
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

export function commandLogger(options: CommonOptions & { dev?: boolean }, destination?: NodeJS.WritableStream): Logger {
  return createLogger({ json: options.json === true, level: options.verbose === true || options.dev === true ? 'debug' : 'info', destination });
}

export function parseJobNames(names: readonly string[]): JobName[] {
  for (const name of names) {
    if (!isJobName(name)) throw new UserError(`unknown job "${name}": the jobs are ${jobNames.join(', ')}`, 'job.unknown');
  }
  return names as JobName[];
}

export function parsePositiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new UserError(`${flag} must be a whole number greater than 0, not "${value}"`, 'cli.invalid-option');
    return parsed;
  };
}

/** Connects, through the SSH tunnel when [tunnel] has a host (the tunnel closes with the database). */
export function parsePort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new UserError(`--ui-port must be a port number (0-65535), not "${value}"`, 'cli.invalid-option');
  return parsed;
}

export async function connectDatabase(config: Pick<Config, 'database' | 'tunnel'>): Promise<MastodonDatabase> {
  const tunnelOptions = tunnelOptionsFromConfig(config.tunnel);
  if (tunnelOptions === undefined) return MastodonDatabase.connect(databaseOptions(config.database));
  const tunnel = await openSshTunnel(tunnelOptions, tunnelTargetFromDatabase(config.database));
  try {
    return await MastodonDatabase.connect({ ...databaseOptions(databaseThroughTunnel(config.database, tunnel)), afterClose: () => tunnel.close() });
  } catch (error) {
    await tunnel.close();
    throw error;
  }
}

/** Opens both storages and checks them before any object moves: a bad bucket fails in the first second, not after an hour. */
export async function openStorages(config: Config, destinationMode: 'read' | 'write'): Promise<{ source: Storage; destination: Storage }> {
  const sourceOptions = storageOptions(config.source, config);
  const destinationOptions = storageOptions(config.destination, config);
  if (JSON.stringify(sourceOptions) === JSON.stringify(destinationOptions)) {
    throw new UserError('[source] and [destination] are the same location: point [destination] at the new storage', 'config.same-location');
  }
  const source = createStorage(sourceOptions);
  const destination = createStorage(destinationOptions);
  try {
    await source.check('read');
    await destination.check(destinationMode);
  } catch (error) {
    await Promise.all([source.close(), destination.close()]);
    throw error;
  }
  return { source, destination };
}
