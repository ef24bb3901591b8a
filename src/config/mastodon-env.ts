/**
 * Reads a Mastodon instance's own settings (its `.env.production`) into the same snake_case
 * sections as the INI file, so that `[database]` and `[source]` need not be copied by hand.
 * The mapping follows Mastodon's config/database.yml and config/initializers/paperclip.rb.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { UserError, errorCode, messageOf } from '../errors.js';

/** Sections → keys → string values, the shape of the INI file before validation. */
export type RawSections = Record<string, Record<string, string>>;

export async function readMastodonEnv(envFilePath: string): Promise<RawSections> {
  let text: string;
  try {
    text = await readFile(envFilePath, 'utf8');
  } catch (error) {
    const reason = errorCode(error) ?? messageOf(error);
    throw new UserError(
      `cannot read Mastodon env file ${envFilePath} (${reason}): pass the .env.production in the instance's root folder, e.g. /home/mastodon/live/.env.production`,
      'config.mastodon-env',
    );
  }
  // dotenv's parser: quotes, escapes in double quotes, comments, `export` prefixes. Unlike Ruby's
  // dotenv it does not expand ${VAR}, which Mastodon's generated files do not use.
  const variables = parseDotenv(text);
  // Mastodon's default file root is <rails root>/public/system, and .env.production lives in the rails root.
  return sectionsFromMastodonEnv(variables, path.dirname(path.resolve(envFilePath)));
}

/** Pure: Mastodon's variables in, config sections out. `railsRoot` anchors the default file storage path. */
export function sectionsFromMastodonEnv(variables: Record<string, string>, railsRoot: string): RawSections {
  // An empty value counts as unset, except S3_PERMISSION where empty means "send no ACL".
  const value = (name: string): string | undefined => (variables[name] === undefined || variables[name] === '' ? undefined : variables[name]);
  const s3Enabled = value('S3_ENABLED') === 'true';
  // Mastodon's order in paperclip.rb: S3 first, then Swift, then Azure, then the local disk.
  const otherBackend = s3Enabled ? undefined : value('SWIFT_ENABLED') === 'true' ? 'OpenStack Swift' : value('AZURE_ENABLED') === 'true' ? 'Azure Blob Storage' : undefined;
  if (otherBackend !== undefined) {
    throw new UserError(
      `the Mastodon env file stores media on ${otherBackend}, which this tool cannot read: copy the media to S3 or a directory first, then write [source] in the config file instead of using --mastodon-env for it`,
      'config.mastodon-env',
    );
  }
  const sections: RawSections = {
    database: databaseSection(value),
    source: s3Enabled ? s3Section(value) : { type: 'fs', path: fileStorageRoot(value('PAPERCLIP_ROOT_PATH'), railsRoot) },
  };
  const acl = s3Enabled ? aclFromPermission(variables['S3_PERMISSION']) : undefined;
  if (acl !== undefined) sections['sync'] = { acl };
  return sections;
}

type Lookup = (name: string) => string | undefined;

/** PAPERCLIP_ROOT_PATH is a Paperclip path template: Mastodon fills in `:rails_root` and `:rails_env` before using it. */
function fileStorageRoot(configured: string | undefined, railsRoot: string): string {
  const template = configured ?? path.join(':rails_root', 'public', 'system');
  return path.resolve(railsRoot, template.replaceAll(':rails_root', () => railsRoot).replaceAll(':rails_env', 'production'));
}

/** DATABASE_URL wins, as in Rails; otherwise the parts with the production defaults of config/database.yml. */
function databaseSection(value: Lookup): Record<string, string> {
  const ssl = sslFromMode(value('DB_SSLMODE'));
  const withSsl: Record<string, string> = ssl === undefined ? {} : { ssl };
  const url = value('DATABASE_URL');
  if (url !== undefined) return { url, ...withSsl };
  const password = value('DB_PASS');
  return {
    host: value('DB_HOST') ?? 'localhost',
    port: value('DB_PORT') ?? '5432',
    user: value('DB_USER') ?? 'mastodon',
    ...(password === undefined ? {} : { password }),
    name: value('DB_NAME') ?? 'mastodon_production',
    ...withSsl,
  };
}

/**
 * libpq's sslmode as this tool's on/off `ssl`: `disable` → false, `require`/`verify-*` → true.
 * `prefer` (Mastodon's default) and `allow` stay unset: try without TLS, as node-postgres does.
 */
function sslFromMode(mode: string | undefined): string | undefined {
  if (mode === 'disable') return 'false';
  if (mode === 'require' || mode === 'verify-ca' || mode === 'verify-full') return 'true';
  return undefined;
}

function s3Section(value: Lookup): Record<string, string> {
  const section: Record<string, string> = { type: 's3', region: value('S3_REGION') ?? 'us-east-1' };
  const set = (key: string, variable: string | undefined): void => {
    if (variable !== undefined) section[key] = variable;
  };
  set('bucket', value('S3_BUCKET'));
  set('access_key_id', value('AWS_ACCESS_KEY_ID'));
  set('secret_access_key', value('AWS_SECRET_ACCESS_KEY'));
  set('prefix', value('S3_KEY_PREFIX'));
  // Only S3_ENDPOINT reaches Mastodon's S3 client. S3_HOSTNAME, S3_PROTOCOL and S3_ALIAS_HOST only
  // shape the public URLs Paperclip prints: without S3_ENDPOINT, Mastodon talks to AWS in S3_REGION,
  // and so does this tool (an S3_HOSTNAME naming a CDN must not receive signed API calls).
  const endpoint = value('S3_ENDPOINT');
  if (endpoint !== undefined) {
    set('endpoint', endpoint);
    // Mastodon: force_path_style = S3_OVERRIDE_PATH_STYLE != 'true' (the override picks virtual-host style).
    set('force_path_style', String(value('S3_OVERRIDE_PATH_STYLE') !== 'true'));
  }
  // Not mapped: S3_STORAGE_CLASS is how Mastodon writes new objects, a destination choice ([sync]
  // storage_class), not a property of the source. S3_FORCE_SINGLE_REQUEST works around providers
  // that break ranged multi-part downloads; this tool reads each object as one streamed GET, so it
  // has nothing to change. S3_MULTIPART_THRESHOLD is about uploads to the source, which this tool never does.
  return section;
}

/** Mastodon's S3_PERMISSION: absent → its default public-read (left to [sync]'s default), '' → no ACL. */
function aclFromPermission(permission: string | undefined): string | undefined {
  if (permission === undefined) return undefined;
  if (permission === '') return 'none';
  return permission === 'private' ? 'private' : 'public-read';
}
