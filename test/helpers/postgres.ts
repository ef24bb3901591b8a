/**
 * Scratch Mastodon databases for tests, on a real PostgreSQL:
 * 127.0.0.1:5432, user postgres, trust auth (PGHOST/PGPORT/PGUSER/PGPASSWORD override).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createInstanceDatabase, insertBulkMedia, serverSettings, type InstanceDatabase } from '../../tools/synthetic-instance/database.js';

export { insertBulkMedia, serverSettings };

/** Connected and writable (for building fixtures); drop() removes it even with other sessions on it. */
export type ScratchDatabase = InstanceDatabase;

/** A new database `mss_test_<random>` holding test/fixtures/mastodon-schema.sql. */
export function createScratchDatabase(): Promise<ScratchDatabase> {
  return createInstanceDatabase({ name: `mss_test_${randomBytes(6).toString('hex')}` });
}

// --- ids ----------------------------------------------------------------------

/**
 * A Mastodon-style snowflake: milliseconds since the epoch shifted left 16 bits, plus a
 * 16-bit sequence (lib/mastodon/snowflake.rb). 18 digits for any date after 2018-05.
 */
export function snowflakeId(date: Date, seq = 0): string {
  return ((BigInt(date.getTime()) << 16n) | BigInt(seq & 0xffff)).toString();
}

let sequence = 0;
/** A fresh snowflake for tables without an id default (accounts, media_attachments). */
export function nextSnowflakeId(): string {
  sequence += 1;
  return snowflakeId(new Date(), sequence);
}

// --- fixture rows ---------------------------------------------------------------

export type Columns = Record<string, unknown>;

/** Inserts one row with the given columns, returning its id as a string. */
export async function insertRow(client: pg.Client, table: string, columns: Columns): Promise<string> {
  const names = Object.keys(columns);
  const quoted = names.map((n) => `"${n.replaceAll('"', '""')}"`).join(', ');
  const placeholders = names.map((_, i) => `$${i + 1}`).join(', ');
  const sql = names.length === 0 ? `INSERT INTO "${table}" DEFAULT VALUES` : `INSERT INTO "${table}" (${quoted}) VALUES (${placeholders})`;
  const result = await client.query<{ id: string }>(`${sql} RETURNING id::text AS id`, Object.values(columns));
  const id = result.rows[0]?.id;
  if (id === undefined) throw new Error(`INSERT INTO ${table} returned no id`);
  return id;
}

/**
 * A value for Mastodon's `timestamp without time zone` columns, which hold UTC. (node-postgres
 * would send a Date in the process's local time, and PostgreSQL would drop the offset.)
 */
export function utcTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

const timestamps = (): Columns => {
  const now = utcTimestamp(new Date());
  return { created_at: now, updated_at: now };
};

let unique = 0;
const uniqueSuffix = (): string => `${process.pid}_${++unique}`;

export function insertAccount(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'accounts', { id: nextSnowflakeId(), username: `user_${uniqueSuffix()}`, ...timestamps(), ...columns });
}

export function insertMediaAttachment(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'media_attachments', { id: nextSnowflakeId(), ...timestamps(), ...columns });
}

export function insertCustomEmoji(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'custom_emojis', { shortcode: `emoji_${uniqueSuffix()}`, ...timestamps(), ...columns });
}

export function insertPreviewCard(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'preview_cards', { url: `https://example.com/${uniqueSuffix()}`, ...timestamps(), ...columns });
}

export function insertPreviewCardProvider(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'preview_card_providers', { domain: `provider-${uniqueSuffix()}.example`, ...timestamps(), ...columns });
}

export function insertSiteUpload(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'site_uploads', { var: `var_${uniqueSuffix()}`, ...timestamps(), ...columns });
}

export function insertBackup(client: pg.Client, columns: Columns = {}): Promise<string> {
  return insertRow(client, 'backups', { ...timestamps(), ...columns });
}

/**
 * The fixture schema leaves out `statuses`; this adds the columns the private-media rule
 * reads (as in Mastodon's schema.rb).
 */
export async function createStatusesTable(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE statuses (
      id bigint PRIMARY KEY,
      account_id bigint NOT NULL,
      uri character varying,
      local boolean,
      visibility integer DEFAULT 0 NOT NULL,
      deleted_at timestamp without time zone,
      created_at timestamp without time zone NOT NULL,
      updated_at timestamp without time zone NOT NULL
    )`);
}

export function insertStatus(client: pg.Client, columns: Columns & { account_id: string }): Promise<string> {
  return insertRow(client, 'statuses', { id: nextSnowflakeId(), ...timestamps(), ...columns });
}

/** The legacy `imports` table (Mastodon ≤ 4.2), with its Paperclip `data` attachment. */
export async function createImportsTable(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE imports (
      id bigserial PRIMARY KEY,
      type integer NOT NULL,
      approved boolean DEFAULT false NOT NULL,
      created_at timestamp without time zone NOT NULL,
      updated_at timestamp without time zone NOT NULL,
      data_file_name character varying,
      data_content_type character varying,
      data_file_size integer,
      data_updated_at timestamp without time zone,
      account_id bigint NOT NULL,
      overwrite boolean DEFAULT false NOT NULL
    )`);
}
