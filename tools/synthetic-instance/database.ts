/**
 * The PostgreSQL side of the synthetic instance: a scratch database holding Mastodon's
 * attachment tables (test/fixtures/mastodon-schema.sql), filled in bulk.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { tableNames, type InstancePlan } from './plan.js';

const schemaFile = new URL('../../test/fixtures/mastodon-schema.sql', import.meta.url);

export interface ServerSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
}

/** 127.0.0.1:5432 as postgres, unless PGHOST/PGPORT/PGUSER/PGPASSWORD say otherwise. */
export function serverSettings(): ServerSettings {
  return {
    host: process.env['PGHOST'] ?? '127.0.0.1',
    port: Number(process.env['PGPORT'] ?? 5432),
    user: process.env['PGUSER'] ?? 'postgres',
    ...(process.env['PGPASSWORD'] ? { password: process.env['PGPASSWORD'] } : {}),
  };
}

export interface InstanceDatabase {
  name: string;
  /** `postgres://` URL for the tool's config. */
  url: string;
  /** Connected and writable. */
  client: pg.Client;
  /** Closes the client and drops the database, even with other sessions still on it. */
  drop(): Promise<void>;
}

async function adminQuery(settings: ServerSettings, sql: string): Promise<void> {
  const admin = new pg.Client({ ...settings, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A new database (default name `mss_synthetic_<random>`) with the Mastodon schema. */
export async function createInstanceDatabase(options: { name?: string; settings?: ServerSettings } = {}): Promise<InstanceDatabase> {
  const settings = options.settings ?? serverSettings();
  const name = options.name ?? `mss_synthetic_${randomBytes(5).toString('hex')}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name must be lowercase letters, digits and _: ${name}`);
  await adminQuery(settings, `CREATE DATABASE "${name}"`);
  const client = new pg.Client({ ...settings, database: name });
  const drop = async (): Promise<void> => {
    await client.end().catch(() => undefined);
    await adminQuery(settings, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  };
  try {
    await client.connect();
    await client.query(await readFile(schemaFile, 'utf8'));
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
  const user = encodeURIComponent(settings.user);
  const credentials = settings.password ? `${user}:${encodeURIComponent(settings.password)}` : user;
  return { name, url: `postgres://${credentials}@${settings.host}:${settings.port}/${name}`, client, drop };
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Inserts rows in batches: each batch is ONE statement with ONE parameter, a JSON array
 * expanded by json_populate_recordset — no parameter-count limit, no per-row round trip.
 */
export async function insertRows(client: pg.Client, table: string, rows: readonly Record<string, unknown>[], batchSize = 5000): Promise<void> {
  if (rows.length === 0) return;
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const list = columns.map(quote).join(', ');
  const sql = `INSERT INTO ${quote(table)} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${quote(table)}, $1::json)`;
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize).map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
    await client.query(sql, [JSON.stringify(batch)]);
  }
}

/** Every row of the plan, then the serial sequences moved past the explicit ids, then ANALYZE. */
export async function insertPlanRows(client: pg.Client, plan: InstancePlan): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const table of tableNames) await insertRows(client, table, plan.rows[table]);
    for (const table of tableNames) {
      if (table === 'accounts' || table === 'media_attachments') continue; // snowflake ids, no sequence
      await client.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT max(id) FROM ${quote(table)}), 1))`, [table]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  await client.query('ANALYZE');
}

/**
 * `rows` media_attachments rows made inside PostgreSQL with generate_series (a million in a
 * few seconds), for the enumeration benchmark: local and remote images and videos (each with a small style),
 * owned by `accounts` accounts (also inserted), ids 18-digit snowflakes.
 */
export async function insertBulkMedia(client: pg.Client, rows: number, accounts = 1000): Promise<void> {
  const base = (BigInt(Date.UTC(2023, 0, 1)) << 16n).toString();
  await client.query(
    `INSERT INTO accounts (id, username, domain, created_at, updated_at, avatar_file_name, avatar_content_type, avatar_storage_schema_version)
     SELECT ${base}::bigint + g, 'bulk' || g, CASE WHEN g % 2 = 0 THEN 'bulk' || (g % 50) || '.example' END, now(), now(),
            md5(g::text)::varchar(16) || '.png', 'image/png', 1
     FROM generate_series(1, $1::int) AS g`,
    [accounts],
  );
  await client.query(
    `INSERT INTO media_attachments (id, account_id, file_file_name, file_content_type, file_file_size, remote_url, type,
                                    file_storage_schema_version, created_at, updated_at, file_meta)
     SELECT ${base}::bigint + 1000000 + g::bigint * 65536,
            ${base}::bigint + 1 + (g % $2::int),
            substr(md5(g::text), 1, 16) || CASE g % 3 WHEN 0 THEN '.mp4' WHEN 1 THEN '.jpeg' ELSE '.png' END,
            CASE g % 3 WHEN 0 THEN 'video/mp4' WHEN 1 THEN 'image/jpeg' ELSE 'image/png' END,
            100000 + g % 900000,
            CASE WHEN g % 5 < 3 THEN 'https://remote' || (g % 50) || '.example/media/' || g ELSE '' END,
            CASE g % 3 WHEN 0 THEN 2 ELSE 0 END,
            1, now(), now(), '{"original":{"width":1280,"height":720}}'::json
     FROM generate_series(1, $1::int) AS g`,
    [rows, accounts],
  );
  await client.query('ANALYZE');
}
