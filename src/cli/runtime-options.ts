import type { DirectoryWriteReports, StorageOptions } from '../storage/storage-options.js';
import type { Acl, RunWrites } from '../storage/storage.js';
import type { Config, StorageSection } from '../config/schema.js';
import type { DatabaseOptions } from '../mastodon/database.js';

const mebibyte = 1024 * 1024;

export function databaseOptions(section: Config['database']): DatabaseOptions {
  const { url, host, port, user, password, name, ssl } = section;
  return { connectionString: url, host, port, user, password, database: name, ssl };
}

/**
 * A source or destination section as the storage layer wants it. `reports`, for a destination
 * being written only, lets a directory's listings remove abandoned temporary files and hears of
 * each, and hears of a directory whose owner is not the one writing it.
 */
export function storageOptions(section: StorageSection, config: Pick<Config, 'sync'>, reports: DirectoryWriteReports = {}): StorageOptions {
  if (section.type === 'fs') return { type: 'fs', root: section.path, prefix: section.prefix, ...reports };
  return {
    type: 's3',
    endpoint: section.endpoint,
    region: section.region,
    bucket: section.bucket,
    accessKeyId: section.access_key_id,
    secretAccessKey: section.secret_access_key,
    // A custom endpoint means a non-AWS provider; nearly all of them want path-style, as Mastodon assumes too.
    forcePathStyle: section.force_path_style ?? section.endpoint !== undefined,
    prefix: section.prefix,
    // Source and destination each get their own client, so each needs a socket per transfer.
    maxSockets: config.sync.concurrency,
    multipartThreshold: config.sync.multipart_threshold_mb * mebibyte,
    partSize: config.sync.part_size_mb * mebibyte,
    timeouts: { idleMs: config.sync.timeout_s * 1000 },
  };
}

/** What the run's writes carry: the destination's check writes its probe with each, so a refusal stops the run at once. */
export function runWrites(config: Config): RunWrites {
  const acls = [...new Set([aclFor(config, false), aclFor(config, true)])].filter((acl) => acl !== undefined);
  return { acls, ...(config.sync.storage_class !== undefined ? { storageClass: config.sync.storage_class } : {}) };
}

/** The ACL to send for an object: none at all when the admin chose `none` (R2, ACL-less buckets). */
export function aclFor(config: Config, isPrivate: boolean): Acl | undefined {
  if (config.sync.acl === 'none') return undefined;
  return isPrivate ? 'private' : config.sync.acl;
}
