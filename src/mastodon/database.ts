import pg from 'pg';
import { UserError } from '../errors.js';
import { connectError, queryError, scrub, type ConnectTarget } from './database-errors.js';
import { jobSchema, joinTables, type JobSchema, type TableColumns } from './job-schema.js';
import { jobModels } from './models.js';
import { jobNames, type JobName, type Row } from './object-ref.js';
import { countSql, quoteIdent, selectPageSql, type SqlQuery } from './row-sql.js';
import { StreamedPage } from './streamed-page.js';

export interface DatabaseOptions {
  /** A `postgres://` URL. node-postgres lets its parts win over the separate fields below. */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean;
  /** Runs after the connection ends, e.g. to close the SSH tunnel it went through. */
  afterClose?: () => Promise<void>;
}

export interface RowQuery {
  /** At most this many rows for the job. */
  limit?: number;
  /** Only rows whose `updated_at` or any `<att>_updated_at` is later: delta syncs. */
  since?: Date;
  /** Rows per page (one query each). @defaultValue 5000 */
  batchSize?: number;
  /** Resume after this row id (decimal string). */
  afterId?: string;
}

const defaultBatchSize = 5000;
const connectTimeoutMs = 10_000;
/** Long enough for count(*) over tens of millions of media rows, short enough to notice a stuck server. */
const statementTimeoutMs = 5 * 60_000;

/**
 * A read-only view of a Mastodon database: which jobs it has, and their rows in id order,
 * page by page, so memory stays flat over millions of rows.
 */
export class MastodonDatabase {
  private tablesPromise: Promise<TableColumns> | undefined;
  private readonly schemas = new Map<JobName, Promise<JobSchema>>();

  private constructor(
    private readonly client: pg.Client,
    private readonly target: ConnectTarget,
    private readonly afterClose: (() => Promise<void>) | undefined,
  ) {}

  static async connect(options: DatabaseOptions): Promise<MastodonDatabase> {
    const client = new pg.Client({
      connectionString: options.connectionString,
      host: options.host,
      port: options.port,
      user: options.user,
      password: options.password,
      database: options.database,
      ssl: options.ssl,
      // Names our session in pg_stat_activity.
      application_name: 'mastodon-s3-sync',
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      statement_timeout: statementTimeoutMs,
      // Read-only from the first statement. A startup parameter rather than a SET, because a SET
      // sent through PgBouncer's transaction pooling would stay on a server connection that
      // Mastodon itself uses next, and make Mastodon read-only too.
      options: '-c default_transaction_read_only=on',
    });
    const target = connectTarget(client, options);
    // Without a listener, a server that goes away between queries would crash the process.
    client.on('error', () => undefined);

    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw connectError(error, target);
    }

    const database = new MastodonDatabase(client, target, options.afterClose);
    await database.ensureReadOnly();
    return database;
  }

  /**
   * The jobs whose table exists here; `imports` is gone since Mastodon 4.4. A database without
   * Mastodon's `accounts` table is refused: with no job to run, sync would copy nothing, verify would
   * pass and orphans would call every object an orphan, all with exit 0.
   */
  async availableJobs(): Promise<JobName[]> {
    const tables = await this.tables();
    if (!tables.has('accounts')) {
      const where = `${this.target.host}:${this.target.port}`;
      throw new UserError(
        `database "${scrub(this.target.database, this.target)}" on PostgreSQL at ${where} has no Mastodon tables (no accounts table) — check [database] name (or the database at the end of url): it is mastodon_production on most instances`,
        'db.not-mastodon',
      );
    }
    return jobNames.filter((job) => tables.has(jobModels[job].table));
  }

  /**
   * How this database serves a job: which optional columns it lacks (read as NULL) and which
   * joins it allows. Throws a UserError for a missing table or required column.
   */
  async jobSchema(job: JobName): Promise<JobSchema> {
    let schema = this.schemas.get(job);
    if (!schema) {
      schema = this.tables().then((tables) => jobSchema(job, tables, this.target.database));
      this.schemas.set(job, schema);
    }
    return schema;
  }

  /**
   * The job's rows that reference at least one file, in id order, in batches as they arrive. A
   * page is asked for as soon as the one before it has arrived, so the server reads it while the
   * caller works through the rows before; never more than one page ahead of the caller.
   */
  async *rows(job: JobName, query: RowQuery = {}): AsyncGenerator<Row[], void, undefined> {
    const schema = await this.jobSchema(job);
    const pageSize = positiveInteger(query.batchSize ?? defaultBatchSize, 'batchSize');
    let remaining = query.limit === undefined ? Infinity : nonNegativeInteger(query.limit, 'limit');
    const readPage = (afterId: string | undefined): { size: number; page: StreamedPage } => {
      const size = Math.min(pageSize, remaining);
      const sql = selectPageSql(schema, { afterId, since: query.since }, size);
      return { size, page: new StreamedPage(this.client, sql, (error) => queryError(error, this.target, schema.model.table)) };
    };

    const afterId = query.afterId === undefined ? undefined : decimalId(query.afterId);
    let current = remaining > 0 ? readPage(afterId) : undefined;
    while (current) {
      const { size, page } = current;
      const next = page.ended.then((end) => {
        remaining -= end.rows;
        return end.rows === size && remaining > 0 ? readPage(end.lastId) : undefined;
      });
      // A failed page is reported by its batches; the caller may also stop before asking for the next.
      next.catch(() => undefined);
      yield* page.batches();
      current = await next;
    }
  }

  /** How many rows `rows()` yields for the same query: the progress total. */
  async countRows(job: JobName, query: RowQuery = {}): Promise<number> {
    const schema = await this.jobSchema(job);
    const afterId = query.afterId === undefined ? undefined : decimalId(query.afterId);
    const [result] = await this.run(countSql(schema, { afterId, since: query.since }), schema.model.table);
    const count = Number(result?.['count'] ?? 0);
    return query.limit === undefined ? count : Math.min(count, nonNegativeInteger(query.limit, 'limit'));
  }

  /**
   * Ids that cut the job's rows into `parts` groups of about equal size: `parts - 1` of them
   * (fewer when ids repeat or the table is small), ascending. Where a listing of the job's
   * objects can be split; one sort of the table's ids.
   */
  async idQuantiles(job: JobName, parts: number): Promise<string[]> {
    const { table } = (await this.jobSchema(job)).model;
    const fractions = Array.from({ length: positiveInteger(parts, 'parts') - 1 }, (_, index) => (index + 1) / parts);
    const [row] = await this.run(
      { text: `SELECT (percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY "id"))::text[] AS ids FROM ${quoteIdent(table)}`, values: [fractions] },
      table,
    );
    const ids: unknown = row?.['ids'];
    return Array.isArray(ids) ? [...new Set(ids.filter((id): id is string => typeof id === 'string'))] : [];
  }

  /** One statement on this read-only session (the server's clock for `--since last`); writes fail. */
  async query(text: string, values: unknown[] = []): Promise<Row[]> {
    return this.run({ text, values }, 'query');
  }

  async close(): Promise<void> {
    try {
      await this.client.end();
    } finally {
      await this.afterClose?.();
    }
  }

  private async run(sql: SqlQuery, table: string): Promise<Row[]> {
    try {
      const result = await this.client.query<Row>(sql.text, sql.values);
      return result.rows;
    } catch (error) {
      throw queryError(error, this.target, table);
    }
  }

  private tables(): Promise<TableColumns> {
    this.tablesPromise ??= this.loadTables();
    return this.tablesPromise;
  }

  /** One information_schema query for every table we may read. */
  private async loadTables(): Promise<TableColumns> {
    const names = [...new Set([...jobNames.map((job) => jobModels[job].table), ...joinTables])];
    const rows = await this.run(
      {
        text: `SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
        values: [names],
      },
      'information_schema.columns',
    );
    const tables = new Map<string, Set<string>>();
    for (const row of rows) {
      const table = String(row['table_name']);
      let columns = tables.get(table);
      if (!columns) tables.set(table, (columns = new Set()));
      columns.add(String(row['column_name']));
    }
    return tables;
  }

  /** A pooler may drop startup parameters silently; never read on without the guarantee. */
  private async ensureReadOnly(): Promise<void> {
    const [row] = await this.run({ text: 'SHOW transaction_read_only', values: [] }, 'session');
    if (row?.['transaction_read_only'] === 'on') return;
    await this.close().catch(() => undefined);
    throw new UserError(
      `PostgreSQL at ${this.target.host}:${this.target.port} ignored the read-only session setting — point [database] host/port at PostgreSQL itself, not at a connection pooler`,
      'db.not-read-only',
    );
  }
}

function connectTarget(client: pg.Client, options: DatabaseOptions): ConnectTarget {
  // node-postgres has resolved URL, fields, PG* environment variables and defaults by now.
  const resolvedPassword: unknown = (client as unknown as { password?: unknown }).password;
  const secrets = [
    options.password,
    typeof resolvedPassword === 'string' ? resolvedPassword : undefined,
    urlPassword(options.connectionString),
  ];
  return {
    host: client.host,
    port: client.port,
    user: client.user ?? '',
    database: client.database ?? '',
    secrets: secrets.filter((s): s is string => typeof s === 'string' && s !== ''),
  };
}

function urlPassword(connectionString: string | undefined): string | undefined {
  if (!connectionString) return undefined;
  try {
    const password = new URL(connectionString).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

function decimalId(id: string): string {
  if (!/^-?\d+$/.test(id)) throw new RangeError(`afterId must be a decimal row id, got ${JSON.stringify(id)}`);
  return id;
}
