import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseIni } from 'ini';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { readMastodonEnv } from './mastodon-env.js';
import { configSchema, databaseOnlyConfigSchema, sectionNames, type Config, type DatabaseOnlyConfig } from './schema.js';

export const defaultConfigPath = 'private/config.ini';
export const configPathVariable = 'MASTODON_S3_SYNC_CONFIG';
const envPrefix = 'MASTODON_S3_SYNC_';

type RawSections = Record<string, Record<string, unknown>>;

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
  const { sections, path: filePath } = await readConfigSections(sources);
  return { config: validateConfig(sections), path: filePath };
}

/** Like loadConfig, for commands that need only [database] (and [tunnel]): storages may be left out. */
export async function loadDatabaseOnlyConfig(sources: ConfigSources = {}): Promise<LoadedConfig<DatabaseOnlyConfig>> {
  const { sections, path: filePath } = await readConfigSections(sources);
  return { config: parseSections(databaseOnlyConfigSchema, sections), path: filePath };
}

async function readConfigSections(sources: ConfigSources): Promise<{ sections: RawSections; path: string | undefined }> {
  const env = sources.env ?? process.env;
  const chosenPath = sources.configPath ?? env[configPathVariable];
  const filePath = chosenPath ?? defaultConfigPath;
  const fromFile = await readIniFile(filePath, chosenPath !== undefined);
  const fromEnv = sectionsFromEnvironment(env);
  if (fromFile === undefined && Object.keys(fromEnv).length === 0 && sources.mastodonEnvPath === undefined) {
    throw new UserError(
      `no config file at ${filePath}: copy private/config.sample.ini to ${defaultConfigPath} and fill it in, or pass --config PATH`,
      'config.missing',
    );
  }
  const higher = mergeSections(fromFile ?? {}, fromEnv);
  const fromMastodon = sources.mastodonEnvPath === undefined ? {} : await readMastodonEnv(sources.mastodonEnvPath);
  const merged = mergeSections(underHigherLayers(fromMastodon, higher), higher);
  return { sections: merged, path: fromFile === undefined ? undefined : path.resolve(filePath) };
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
export function validateConfig(raw: RawSections): Config {
  return parseSections(configSchema, raw);
}

function parseSections<S extends z.ZodType>(schema: S, raw: RawSections): z.output<S> {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const lines = result.error.issues.map(describeIssue);
  throw new UserError(lines.join('\n'), 'config.invalid');
}

async function readIniFile(filePath: string, mustExist: boolean): Promise<RawSections | undefined> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!mustExist) return undefined;
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
    sections[name] = value as Record<string, unknown>;
  }
  return sections;
}

function sectionsFromEnvironment(env: NodeJS.ProcessEnv): RawSections {
  const sections: RawSections = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(envPrefix) || name === configPathVariable || value === undefined) continue;
    const rest = name.slice(envPrefix.length).toLowerCase();
    const section = sectionNames.find((candidate) => rest.startsWith(`${candidate}_`));
    if (section === undefined) {
      throw new UserError(`environment variable ${name} names no config section: use ${envPrefix}<${sectionNames.join('|').toUpperCase()}>_<KEY>`, 'config.invalid');
    }
    (sections[section] ??= {})[rest.slice(section.length + 1)] = value;
  }
  return sections;
}

function mergeSections(base: RawSections, overrides: RawSections): RawSections {
  const merged: RawSections = { ...base };
  for (const [section, values] of Object.entries(overrides)) merged[section] = { ...merged[section], ...values };
  return merged;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const [section, ...rest] = issue.path.map(String);
  const where = section === undefined ? 'config' : `[${section}]${rest.length > 0 ? ` ${rest.join('.')}` : ''}`;
  if (issue.code === 'unrecognized_keys') {
    if (section === undefined) {
      return `config: unknown section ${issue.keys.map((key) => `[${key}]`).join(', ')}: the sections are ${sectionNames.map((name) => `[${name}]`).join(', ')}`;
    }
    return `${where} unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')}: remove it or fix its spelling (see private/config.sample.ini)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    if (rest.length === 0) return `${where} is missing: add the section to the config file`;
    const variable = `${envPrefix}${[section, ...rest].join('_').toUpperCase()}`;
    return `${where} is required: set it in the config file or in ${variable}`;
  }
  return `${where}: ${issue.message}`;
}
