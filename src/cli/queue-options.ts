import { isRedisUrl, redisUrlExample } from '../config/redis-url.js';
import type { Config, StorageSection } from '../config/schema.js';
import { UserError } from '../errors.js';
import { redactUrl } from '../log.js';
import type { QueueSettings } from '../queue/queue-settings.js';
import { KeyPrefix } from '../storage/key-prefix.js';
import { displayEndpoint } from '../storage/storage-location.js';

/** What the queue commands take besides the common options. */
export interface QueueFlags {
  /** --queue: wins over `[queue] url` and MASTODON_S3_SYNC_QUEUE_URL. */
  queue?: string;
}

export interface QueueCommandSettings extends QueueSettings {
  maxWaiting: number;
  lockDurationMs: number;
}

/** commander's parser for --queue. */
export function parseQueueUrl(value: string): string {
  const url = value.trim();
  // The URL may hold Redis's password.
  if (!isRedisUrl(url)) throw new UserError(`--queue must be a Redis URL such as ${redisUrlExample}, not "${redactUrl(url)}"`, 'cli.invalid-option');
  return url;
}

/** The queue to use: --queue, else [queue] url; the command cannot run without one. */
export function queueSettings(flags: QueueFlags, config: Pick<Config, 'queue'>, command: string): QueueCommandSettings {
  const url = flags.queue ?? config.queue.url;
  if (url === undefined) {
    throw new UserError(
      `${command} needs the queue's Redis: pass --queue redis://HOST:6379, or set [queue] url (or MASTODON_S3_SYNC_QUEUE_URL); without a queue, run everything in one process with sync`,
      'queue.not-configured',
    );
  }
  return { url, prefix: config.queue.prefix, maxWaiting: config.queue.max_waiting, lockDurationMs: config.queue.lock_duration_s * 1000 };
}

/**
 * What makes two machines' storage sections the same place, for task ids (of the destination) and
 * for the check every worker and enqueue makes against the run: the bucket and prefix of an S3
 * storage (not its endpoint, which may differ from machine to machine), or the prefix of an fs one
 * (each machine mounts the directory where it likes).
 */
export function storageIdentity(section: StorageSection): string {
  if (section.type === 'fs') return `fs:/${section.prefix ?? ''}`;
  // Two spellings of one S3 prefix ('/media' and 'media') lead to the same keys, and so to the same identity.
  return `s3:${section.bucket}/${new KeyPrefix(section.prefix).value.replace(/\/$/, '')}`;
}

/** A storage section as logs and `status` show it, and as the run's record in Redis keeps it: no credentials, not even in the endpoint. */
export function describeStorageSection(section: StorageSection): string {
  if (section.type === 'fs') return `directory ${section.path}${section.prefix !== undefined ? `/${section.prefix}` : ''}`;
  return `s3://${section.bucket}${section.prefix !== undefined ? `/${section.prefix}` : ''}${section.endpoint !== undefined ? ` at ${displayEndpoint(section.endpoint)}` : ''}`;
}
