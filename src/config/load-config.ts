import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseIni } from 'ini';
import type { z } from 'zod';
import { UserError, errorCode } from '../errors.js';
import { readMastodonEnv } from './mastodon-env.js';
import { configSchema, databaseOnlyConfigSchema, readerConfigSchema, sectionNames, storageTypeKeys, type Config, type DatabaseOnlyConfig, type ReaderConfig } from './schema.js';

export const defaultConfigPath = 'private/config.ini';
export const configPathVariable = 'MASTODON_S3_SYNC_CONFIG';
const envPrefix = 'MASTODON_S3_SYNC_';

type RawSections = Record<string, Record<string, unknown>>;
/** The MASTODON_S3_SYNC_* variable each [section] key came from, keyed `section.key`. */
type EnvironmentOrigins = Map<string, string>;

export interface LoadedConfig<T = Config> {
  config: T;
  /** The file read, or undefined when everything came from the environment. */
  path: string | undefined;
}

export interface ConfigSources {
  /** --config; else $MASTODON_S3_SYNC_CONFIG; else private/config.ini. */
  configPath?: string;
  /** --mastodon-env: the instance's .env.production, the lowest layer ([database], [source], [sync] acl). */
  mastodonEnvPath?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Layers, lowest first: Mastodon's .env.production, the INI file,
 * MASTODON_S3_SYNC_<SECTION>_<KEY> variables. Then validates the result.
 */
export async function loadConfig(sources: ConfigSources = {}): Promise<LoadedConfig> {
  const { sections, path: filePath, origins } = await readConfigSections(sources);
  return { config: validateConfig(sections, origins), path: filePath };
}

/** Like loadConfig, for commands that need only [database] (and [tunnel]): storages may be left out. */
export async function loadDatabaseOnlyConfig(sources: ConfigSources = {}): Promise<LoadedConfig<DatabaseOnlyConfig>> {
  const { sections, path: filePath, origins } = await readConfigSections(sources);
  return { config: parseSections(databaseOnlyConfigSchema, sections, origins), path: filePath };
}

/**
 * For commands that open neither the database nor a storage (see readerConfigSchema): every section may be
 * left out, and when a flag names what they read (`flagGiven`: --queue, --state) with no config file nor
 * variable at all, the defaults do.
 */
async function loadReaderConfig(sources: ConfigSources, flagGiven: boolean): Promise<LoadedConfig<ReaderConfig>> {
  try {
    const { sections, path: filePath, origins } = await readConfigSections(sources);
    return { config: parseSections(readerConfigSchema, sections, origins), path: filePath };
  } catch (error) {
    if (error instanceof UserError && error.code === 'config.missing' && flagGiven && sources.configPath === undefined) {
      return { config: readerConfigSchema.parse({}), path: undefined };
    }
    throw error;
  }
}

/** For commands that only watch the queue (`status`, `ui`): [queue] and [ui]; `queueFlag` is --queue. */
export async function loadQueueViewConfig(sources: ConfigSources, queueFlag: string | undefined): Promise<Pick<ReaderConfig, 'queue' | 'ui'>> {
  return (await loadReaderConfig(sources, queueFlag !== undefined)).config;
}

/** For `report`, which reads only the state file: `stateFlag` is --state. */
export function loadStateViewConfig(sources: ConfigSources, stateFlag: string | undefined): Promise<LoadedConfig<ReaderConfig>> {
  return loadReaderConfig(sources, stateFlag !== undefined);
}

async function readConfigSections(
  sources: ConfigSources,
): Promise<{ sections: RawSections; path: string | undefined; origins: EnvironmentOrigins }> {
  const env = sources.env ?? process.env;
  const chosenPath = sources.configPath ?? env[configPathVariable];
  const filePath = chosenPath ?? defaultConfigPath;
  const fromFile = await readIniFile(filePath, chosenPath !== undefined);
  const { sections: fromEnv, origins } = sectionsFromEnvironment(env);
  if (fromFile === undefined && Object.keys(fromEnv).length === 0 && sources.mastodonEnvPath === undefined) {
    throw noDefaultConfigFile(filePath);
  }
  const higher = mergeSections(fromFile ?? {}, fromEnv);
  const fromMastodon = sources.mastodonEnvPath === undefined ? {} : await readMastodonEnv(sources.mastodonEnvPath);
  const merged = mergeSections(underHigherLayers(fromMastodon, higher), higher);
  return { sections: merged, path: fromFile === undefined ? undefined : path.resolve(filePath), origins };
}

function noDefaultConfigFile(filePath: string): UserError {
  return new UserError(
    `no config file at ${filePath}: copy private/config.sample.ini to ${defaultConfigPath} and fill it in, or pass --config PATH`,
    'config.missing',
  );
}

const databaseParts = ['host', 'port', 'user', 'password', 'name'];

/**
 * Drops from the .env layer what would fight the admin's own settings: a url
 * under explicit parts (pg lets the url win), parts under an explicit url, and
 * a whole [source] of another type (its keys would be unknown to that type).
 */
function underHigherLayers(lower: RawSections, higher: RawSections): RawSections {
  const result: RawSections = structuredClone(lower);
  const higherDatabase = higher['database'] ?? {};
  const lowerDatabase = result['database'];
  if (lowerDatabase !== undefined) {
    if (higherDatabase['url'] !== undefined) for (const part of [...databaseParts, 'url']) delete lowerDatabase[part];
    if (databaseParts.some((part) => higherDatabase[part] !== undefined)) delete lowerDatabase['url'];
  }
  const higherType = higher['source']?.['type'];
  if (higherType !== undefined && higherType !== result['source']?.['type']) delete result['source'];
  return result;
}

/** Pure: raw sections in, a typed config out, or a UserError with one line per problem. */
export function validateConfig(raw: RawSections, origins: EnvironmentOrigins = new Map()): Config {
  return parseSections(configSchema, raw, origins);
}

function parseSections<S extends z.ZodType>(schema: S, raw: RawSections, origins: EnvironmentOrigins): z.output<S> {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const guesses = guessMisspelledSections(result.error.issues, raw);
  // A misspelled section also leaves the real one missing: the "did you mean" line says both.
  const issues = result.error.issues.filter((issue) => !(isMissingSection(issue) && [...guesses.values()].includes(String(issue.path[0]))));
  const lines = issues.map((issue) => describeIssue(issue, origins, guesses, raw));
  throw new UserError(lines.join('\n'), 'config.invalid');
}

function isMissingSection(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && issue.input === undefined && issue.path.length === 1;
}

/** Each unknown section that is a near miss of a known section left out of the config, to that section. */
function guessMisspelledSections(issues: z.core.$ZodIssue[], raw: RawSections): Map<string, string> {
  const absent = sectionNames.filter((name) => raw[name] === undefined);
  const guesses = new Map<string, string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys' || issue.path.length > 0) continue;
    for (const unknown of issue.keys) {
      const closest = absent
        .map((name) => ({ name, distance: editDistance(unknown.toLowerCase(), name) }))
        .filter(({ name, distance }) => distance <= (name.length >= 5 ? 2 : 1))
        .sort((a, b) => a.distance - b.distance)[0];
      if (closest !== undefined && ![...guesses.values()].includes(closest.name)) guesses.set(unknown, closest.name);
    }
  }
  return guesses;
}

/** Levenshtein distance, counting a swap of two neighbours as one edit (the commonest typo). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

async function readIniFile(filePath: string, mustExist: boolean): Promise<RawSections | undefined> {
  let text: string;
  try {
    // Without the byte-order mark Windows editors put first, the first [section] would read as a key outside any section.
    text = (await readFile(filePath, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      if (!mustExist) return undefined;
      // The README's first command names the default path before anyone has made the file.
      if (path.resolve(filePath) === path.resolve(defaultConfigPath)) throw noDefaultConfigFile(filePath);
      throw new UserError(`config file ${filePath} does not exist: check --config or ${configPathVariable}`, 'config.missing');
    }
    throw new UserError(`cannot read config file ${filePath}: ${(error as Error).message}`, 'config.unreadable');
  }
  const parsed = parseIni(text) as Record<string, unknown>;
  const sections: RawSections = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'object' || value === null) {
      throw new UserError(`config file ${filePath}: "${name}" is outside any section: put it under [database], [source], [destination] or [sync]`, 'config.invalid');
    }
    sections[name] = Object.fromEntries(Object.entries(value).map(([key, raw]) => [key, iniScalarAsText(raw)]));
  }
  refuseValuesCutByComments(text, filePath);
  return sections;
}

/**
 * The ini parser turns true, false and null, even quoted, into JSON values: a password "true" would
 * fail as "expected string, received boolean". Every value is text, as in the environment
 * variables; the schema reads true and false where it wants a flag.
 */
function iniScalarAsText(value: unknown): unknown {
  return typeof value === 'boolean' || value === null ? String(value) : value;
}

/**
 * The ini parser ends an unquoted value at its first unescaped # or ;, even mid-word: `password =
 * ab#cd` reads as `ab` and fails much later as a wrong password. A # or ; right after other text
 * is almost surely part of the value (a comment follows a space), so refuse rather than guess.
 * The message never shows the value: it may be a password.
 */
function refuseValuesCutByComments(text: string, filePath: string): void {
  // Every key line is under a header here: readIniFile refused keys outside any section.
  let section = '';
  for (const [index, line] of text.split(/\r\n|\r|\n/).entries()) {
    if (/^\s*[;#]/.test(line)) continue;
    const header = /^\[([^\]]*)\]\s*$/.exec(line);
    if (header !== null) {
      section = header[1]!.trim();
      continue;
    }
    const entry = /^([^=]+)=(.*)$/.exec(line);
    if (entry === null) continue;
    const value = entry[2]!.trim();
    if (value.length > 1 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) continue;
    const cut = commentStart(value);
    if (cut === undefined || cut === 0 || /\s/.test(value[cut - 1]!)) continue;
    const key = entry[1]!.trim();
    throw new UserError(
      `config file ${filePath} line ${index + 1}: [${section}] ${key} would be cut at its ${value[cut]} (# and ; start a comment in an INI file): put the value in double quotes, ${key} = "…" (inside them write \\ as \\\\ and " as \\")`,
      'config.invalid',
    );
  }
}

/** Where the ini parser ends an unquoted value: its first # or ; not escaped by a backslash. */
function commentStart(value: string): number | undefined {
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '#' || value[i] === ';') return i;
  }
  return undefined;
}

function sectionsFromEnvironment(env: NodeJS.ProcessEnv): { sections: RawSections; origins: EnvironmentOrigins } {
  const sections: RawSections = {};
  const origins: EnvironmentOrigins = new Map();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(envPrefix) || name === configPathVariable || value === undefined) continue;
    const rest = name.slice(envPrefix.length).toLowerCase();
    const section = sectionNames.find((candidate) => rest.startsWith(`${candidate}_`));
    if (section === undefined) {
      throw new UserError(`environment variable ${name} names no config section: use ${envPrefix}<${sectionNames.join('|').toUpperCase()}>_<KEY>`, 'config.invalid');
    }
    const key = rest.slice(section.length + 1);
    (sections[section] ??= {})[key] = value;
    origins.set(`${section}.${key}`, name);
  }
  return { sections, origins };
}

function mergeSections(base: RawSections, overrides: RawSections): RawSections {
  const merged: RawSections = { ...base };
  for (const [section, values] of Object.entries(overrides)) merged[section] = { ...merged[section], ...values };
  return merged;
}

function describeIssue(issue: z.core.$ZodIssue, origins: EnvironmentOrigins, guesses: Map<string, string>, raw: RawSections): string {
  const [section, ...rest] = issue.path.map(String);
  const where = section === undefined ? 'config' : `[${section}]${rest.length > 0 ? ` ${rest.join('.')}` : ''}`;
  if (issue.code === 'unrecognized_keys') {
    if (section === undefined) {
      const known = sectionNames.map((name) => `[${name}]`).join(', ');
      const [only] = issue.keys;
      const guess = only === undefined ? undefined : guesses.get(only);
      if (issue.keys.length === 1 && guess !== undefined) return `config: unknown section [${only}]: did you mean [${guess}]? The sections are ${known}`;
      const named = issue.keys.map((key) => `[${key}]${guesses.has(key) ? ` (did you mean [${guesses.get(key)}]?)` : ''}`);
      return `config: unknown section ${named.join(', ')}: the sections are ${known}`;
    }
    // A key set by a variable is not in the file, where the admin would look for it.
    const variables = issue.keys.map((key) => origins.get(`${section}.${key}`)).filter((name) => name !== undefined);
    const inFile = issue.keys.filter((key) => !origins.has(`${section}.${key}`));
    const otherType = inFile.length === issue.keys.length ? keysOfOtherStorageType(raw[section]?.['type'], inFile) : undefined;
    if (otherType !== undefined) {
      const [verb, them] = inFile.length === 1 ? ['belongs', 'it'] : ['belong', 'them'];
      const ownKeys = storageTypeKeys[otherType.own].filter((key) => key !== 'type').join(', ');
      return `${where} ${inFile.map((key) => `"${key}"`).join(', ')} ${verb} to type = ${otherType.type}, and this section is type = ${otherType.own} (${ownKeys}): delete ${them}`;
    }
    const problems = [];
    if (inFile.length > 0) problems.push(`${where} unknown key ${inFile.map((key) => `"${key}"`).join(', ')}: remove it or fix its spelling (see private/config.sample.ini)`);
    if (variables.length > 0) {
      const subject = variables.length === 1 ? `environment variable ${variables[0]} sets` : `environment variables ${variables.join(', ')} set`;
      problems.push(`${subject} an unknown ${where} key: unset it or fix its spelling (see private/config.sample.ini)`);
    }
    return problems.join('\n');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    if (rest.length === 0) return `${where} is missing: add the section to the config file`;
    const variable = `${envPrefix}${[section, ...rest].join('_').toUpperCase()}`;
    return `${where} is required: set it in the config file or in ${variable}`;
  }
  // A value set by a variable is not in the file, where the admin would look for it.
  const variable = origins.get([section, ...rest].join('.'));
  return `${where}${variable === undefined ? '' : ` (from ${variable})`}: ${issue.message}`;
}

/**
 * The sample config shows a directory as `type = fs` lines below an S3 section's keys: an admin who
 * turns them on keeps the S3 keys, which "fix its spelling" would not explain.
 */
function keysOfOtherStorageType(type: unknown, keys: readonly string[]): { own: 's3' | 'fs'; type: 's3' | 'fs' } | undefined {
  if (type !== 's3' && type !== 'fs') return undefined;
  const other = type === 's3' ? 'fs' : 's3';
  return keys.every((key) => (storageTypeKeys[other] as readonly string[]).includes(key)) ? { own: type, type: other } : undefined;
}
