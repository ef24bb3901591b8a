import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import type { JournalScope } from '../journal/journal-scope.js';
import type { Storage } from '../storage/storage.js';

/** The state file's name when it sits beside the config file. */
const stateFileName = 'state.sqlite';
/** Where it goes when everything came from the environment (no config file). */
const fallbackStatePath = 'mastodon-s3-sync.sqlite';

export interface StateFlags {
  /** --state PATH, or false for --no-state. */
  state?: string | false;
}

/** --state, else [sync] state_path, else state.sqlite beside the config file, else ./mastodon-s3-sync.sqlite; undefined for --no-state. */
export function statePath(flags: StateFlags, config: Pick<Config, 'sync'>, configPath: string | undefined): string | undefined {
  if (flags.state === false) return undefined;
  if (typeof flags.state === 'string') return path.resolve(flags.state);
  if (config.sync.state_path !== undefined) return path.resolve(config.sync.state_path);
  return configPath === undefined ? path.resolve(fallbackStatePath) : path.join(path.dirname(configPath), stateFileName);
}

/**
 * Opens the journal for writing, or for reading only (dry runs, report). A
 * read-only open of a file that does not exist yet gives undefined rather than
 * creating it: a dry run writes nothing anywhere.
 */
export async function openJournal(file: string | undefined, mode: 'write' | 'read'): Promise<Journal | undefined> {
  if (file === undefined) return undefined;
  if (mode === 'read' && !(await exists(file))) return undefined;
  // better-sqlite3 is loaded only by runs that keep state (not by --no-state).
  const { Journal } = await import('../journal/journal.js');
  return Journal.open(file, { readonly: mode === 'read' });
}

/** The pair's state: keyed by both storages' descriptions, so another destination never inherits it. */
export function journalScope(journal: Journal | undefined, source: Storage, destination: Storage): JournalScope | undefined {
  return journal?.scope(source.description, destination.description);
}

/**
 * --retry-failed and --since last read what earlier runs recorded: a path with no file behind it
 * is a mistyped --state or another config's directory, and must not leave an empty file behind.
 */
export async function requireStateFile(file: string, flag: string): Promise<void> {
  if (!(await exists(file))) {
    throw new UserError(`${flag}: no state file at ${file}: point --state (or [sync] state_path) at the earlier runs' file, or run a sync first`, 'journal.missing');
  }
}

/**
 * A state file that records nothing for the pair the config names: a [source] or [destination] that
 * differs from the earlier runs', most likely. `flag` is the option that needed the record, if any.
 */
export function noRunForPair(file: string, source: Storage, destination: Storage, code: string, flag?: string): UserError {
  return new UserError(
    `${flag === undefined ? '' : `${flag}: `}the state file ${file} records no run from ${source.description} to ${destination.description}: check [source] and [destination] against the earlier runs', or run a sync first`,
    code,
  );
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
