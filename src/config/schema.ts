import { createRequire } from 'node:module';
import { z } from 'zod';
import { maxConcurrency } from './limits.js';
import { isRedisUrl, redisUrlExample } from './redis-url.js';

/**
 * pg's own URL parser, loaded through pg so that it is the very copy that will read [database] url:
 * it throws on some URLs that `new URL` accepts (a bad percent-escape such as %C3 in the password).
 */
const { parse: parsePostgresUrl } = createRequire(createRequire(import.meta.url).resolve('pg'))(
  'pg-connection-string',
) as typeof import('pg-connection-string');

// Every message is printed after `[section] key: ` (load-config.ts): it says what the value must be, without naming the key again.

/** Config values arrive as strings (load-config turns the ini parser's booleans back into text); a caller of validateConfig may pass booleans. */
const booleanFlag = z.preprocess((value) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const normalized = value.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(normalized)) return true;
    if (['false', 'no', '0', 'off', ''].includes(normalized)) return false;
  }
  return value;
}, z.boolean({ error: 'must be true or false' }));

const positiveInteger = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be greater than 0');
const nonEmpty = z.string().trim().min(1, 'must not be empty');
const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be a URL such as https://s3.eu-central-1.amazonaws.com');
/** Mastodon's S3_KEY_PREFIX, used as written: a trailing `/` is part of every key (src/storage/key-prefix.ts). */
const s3KeyPrefix = z.string().trim().optional();
/** A sub-folder: slashes around it mean nothing on a disk. */
const subFolder = z
  .string()
  .trim()
  .transform((value) => value.replace(/^\/+|\/+$/g, ''))
  .optional();

export const databaseSection = z
  .strictObject({
    url: z
      .string()
      .trim()
      .refine((value) => /^postgres(ql)?:\/\//.test(value), { error: 'must start with postgres:// or postgresql://', abort: true })
      // pg's parser is the judge: libpq's socket form postgres://user@/db?host=/var/run/postgresql is
      // no WHATWG URL, and it works (the tunnel, which needs a host, says so itself).
      .refine(
        (value) => {
          try {
            parsePostgresUrl(value);
            return true;
          } catch {
            return false;
          }
        },
        {
          error:
            'not a valid URL: percent-encode special characters in the password (# as %23, / as %2F, @ as %40), or use host, port, user, password and name instead',
        },
      )
      .optional(),
    host: nonEmpty.optional(),
    port: positiveInteger.optional(),
    user: nonEmpty.optional(),
    password: z.string().optional(),
    name: nonEmpty.optional(),
    ssl: booleanFlag.optional(),
  })
  .refine((section) => section.url !== undefined || section.name !== undefined, {
    message: 'required when there is no url (set url, or name with host, port, user and password)',
    path: ['name'],
  });

const s3Storage = z.strictObject({
  type: z.literal('s3'),
  endpoint: httpUrl.optional(),
  region: nonEmpty.default('us-east-1'),
  bucket: nonEmpty,
  access_key_id: nonEmpty,
  secret_access_key: nonEmpty,
  force_path_style: booleanFlag.optional(),
  prefix: s3KeyPrefix,
});

const fsStorage = z.strictObject({
  type: z.literal('fs'),
  path: nonEmpty,
  prefix: subFolder,
});

/** The keys of each storage type, for telling an admin who changed `type` which of the others' keys to delete. */
export const storageTypeKeys = { s3: Object.keys(s3Storage.shape), fs: Object.keys(fsStorage.shape) } as const;

export const storageSection = z.discriminatedUnion('type', [s3Storage, fsStorage], {
  error: 'must be s3 or fs',
});

export const syncSection = z.strictObject({
  concurrency: positiveInteger.max(maxConcurrency, `must be at most ${maxConcurrency}`).default(16),
  acl: z.enum(['public-read', 'private', 'none'], { error: 'must be public-read, private or none' }).default('public-read'),
  storage_class: nonEmpty.optional(),
  cache_control: nonEmpty.default('public, max-age=315576000, immutable'),
  multipart_threshold_mb: positiveInteger.max(5120, 'must be at most 5120 (S3 takes at most 5 GB in one PUT)').default(200),
  part_size_mb: positiveInteger.min(5, 'must be at least 5 (the S3 minimum part size)').default(5),
  batch_size: positiveInteger.default(5000),
  /** The journal (SQLite state file); default: state.sqlite beside the config file. */
  state_path: nonEmpty.optional(),
  /** Seconds a storage request may go without a byte before it fails (and is retried). */
  timeout_s: positiveInteger.max(3600, 'must be at most 3600').default(120),
});

/** An SSH tunnel to the database (the original tool's `pg.tunnel`); used when the section has a host. */
export const tunnelSection = z
  .strictObject({
    host: nonEmpty.optional(),
    port: positiveInteger.max(65535, 'must be at most 65535').default(22),
    user: nonEmpty.optional(),
    private_key_path: nonEmpty.optional(),
    password: z.string().optional(),
    passphrase: z.string().optional(),
    known_hosts_path: nonEmpty.optional(),
  })
  .refine((section) => section.host === undefined || section.user !== undefined, {
    message: 'required with host (the SSH login on the tunnel host)',
    path: ['user'],
  })
  .refine((section) => section.host === undefined || section.private_key_path !== undefined || section.password !== undefined, {
    message: 'required with host, unless password is set (how to log in to the tunnel host)',
    path: ['private_key_path'],
  });


/** Redis for the many-machines mode (BullMQ); without it everything runs in one process. */
export const queueSection = z.strictObject({
  url: z.string().trim().refine(isRedisUrl, `must be a Redis URL such as ${redisUrlExample}`).optional(),
  /** Keeps several migrations on one Redis apart. */
  prefix: nonEmpty.default('mastodon-s3-sync'),
  /** The producer pauses while more tasks than this wait, so Redis memory stays small. */
  max_waiting: positiveInteger.default(20_000),
  /**
   * Seconds a task stays locked to its worker between renewals (renewed every half of it while
   * the transfer runs); a dead worker's tasks go back to the queue within about 1.5× this.
   */
  lock_duration_s: positiveInteger.max(3600, 'must be at most 3600').default(60),
});

/** The web dashboard (the original tool's Flower on port 5555). */
export const uiSection = z.strictObject({
  host: nonEmpty.default('127.0.0.1'),
  port: z.coerce.number({ error: 'must be a number' }).int().min(0).max(65_535, 'must be a port number').default(5555),
  /** Required when host is not a loopback address; empty means none (compose passes an unset variable as ''). */
  token: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});

export const configSchema = z.strictObject({
  database: databaseSection,
  source: storageSection,
  destination: storageSection,
  sync: syncSection.default(syncSection.parse({})),
  tunnel: tunnelSection.optional(),
  queue: queueSection.default(queueSection.parse({})),
  ui: uiSection.default(uiSection.parse({})),
});

/** For commands that read only the database (`keys`): no storage needs to be configured. */
export const databaseOnlyConfigSchema = configSchema.extend({
  source: storageSection.optional(),
  destination: storageSection.optional(),
});

/**
 * For commands that open neither the database nor a storage: `status` and `ui` read [queue] and [ui],
 * `report` the state file ([sync] state_path, and [source] and [destination] to pick the pair). A
 * machine without the database or storages needs nothing else.
 */
export const readerConfigSchema = databaseOnlyConfigSchema.extend({
  database: databaseSection.optional(),
});

export type RawConfig = z.input<typeof configSchema>;
export type DatabaseOnlyConfig = z.output<typeof databaseOnlyConfigSchema>;
export type ReaderConfig = z.output<typeof readerConfigSchema>;
export type Config = z.output<typeof configSchema>;
export type StorageSection = z.output<typeof storageSection>;
export const sectionNames = ['database', 'source', 'destination', 'sync', 'tunnel', 'queue', 'ui'] as const;
