import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { isProcessAlive } from '../process-alive.js';
import { journalError } from './journal-error.js';
import { hasAclColumn } from './journal-schema.js';

/** The same outcomes the run reports (stats), as the journal stores them. */
export type JournalOutcome = 'copied' | 'skipped' | 'missing' | 'absent-style' | 'failed';

/** Outcomes after which a key needs nothing more: the next run does not ask any storage about it. */
export const settledOutcomes: readonly JournalOutcome[] = ['copied', 'skipped', 'missing', 'absent-style'];

/** What one run learned about one key. */
export interface OutcomeEntry {
  job: string;
  key: string;
  outcome: JournalOutcome;
  reason?: string;
  /** Tries the run made (1 when the first succeeded). */
  attempts?: number;
  /** The object's size at the destination (copied, skipped). */
  size?: number;
  /** Its MD5 ETag at the destination, when single-part and known. */
  etag?: string;
  /** The source key it came from when that was the other `cache/` variant. */
  foundAt?: string;
  /** The ACL it was written with (copied). */
  acl?: string;
}

/** A key's state as the journal holds it. */
export interface KeyState {
  job: string;
  key: string;
  outcome: JournalOutcome;
  reason: string | null;
  attempts: number;
  size: number | null;
  etag: string | null;
  foundAt: string | null;
  acl: string | null;
  run: number | null;
  /** Milliseconds since the epoch. */
  updatedAt: number;
}

/** What planning a key needs of its record: enough to settle it without a request, or to retry it. */
export type RecordedOutcome = Pick<KeyState, 'key' | 'outcome' | 'reason' | 'size' | 'etag' | 'acl'>;

export interface RunRecord {
  id: number;
  startedAt: number;
  /** The database server's clock when the run began (ms since the epoch), when known. */
  sinceMark: number | null;
  finishedAt: number | null;
  status: RunStatus;
  jobs: string[];
  kind: RunKind;
  localOnly: boolean;
  pid: number;
  host: string;
}

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed';

/** full: every row of the jobs; delta: every row changed since a mark (--since); partial: less (--limit, --retry-failed). */
export type RunKind = 'full' | 'delta' | 'partial';

export interface RunStart {
  jobs: readonly string[];
  kind: RunKind;
  localOnly: boolean;
  sinceMark?: number;
}

export interface InventoryEntry {
  key: string;
  size: number;
  etag?: string;
}

export interface OutcomeCount {
  job: string;
  outcome: JournalOutcome;
  objects: number;
  bytes: number;
}

interface RunRow {
  id: number;
  started_at: number;
  since_mark: number | null;
  finished_at: number | null;
  status: RunStatus;
  jobs: string;
  kind: RunKind;
  local_only: number;
  pid: number;
  host: string;
}

interface ScopeSettings {
  readonly: boolean;
  batchSize: number;
  flushIntervalMs: number;
  file: string;
}

/**
 * One source → destination pair's state. Outcomes are buffered and written in
 * one transaction per batch (or per `flushIntervalMs`), so the journal costs
 * the copy loop a few microseconds an object, not an fsync.
 */
export class JournalScope {
  readonly id: number;
  readonly #db: Database.Database;
  readonly #settings: ScopeSettings;
  readonly #pending: OutcomeEntry[] = [];
  #pendingRun: number | null = null;
  #timer: NodeJS.Timeout | undefined;
  /** A failed background flush, rethrown at the next record() so the run stops with it. */
  #flushError: unknown;
  #closed = false;
  readonly #statements: ReturnType<typeof prepare>;
  readonly #aclColumn: 'acl' | 'NULL';

  constructor(db: Database.Database, id: number, settings: ScopeSettings) {
    this.#db = db;
    this.id = id;
    this.#settings = settings;
    // A schema-1 file opened read-only has no acl column: its ACLs read as unknown.
    this.#aclColumn = hasAclColumn(db) ? 'acl' : 'NULL';
    this.#statements = prepare(db, this.#aclColumn);
  }

  get readonly(): boolean {
    return this.#settings.readonly;
  }

  /**
   * The recorded outcomes of `keys` (a database page of them, in one query); a key no run has recorded
   * is absent. Only the columns planning reads: the others cost a fifth more at a million keys.
   */
  outcomes(keys: readonly string[]): Map<string, RecordedOutcome> {
    const outcomes = new Map<string, RecordedOutcome>();
    if (keys.length === 0) return outcomes;
    const rows = this.#statements.outcomesOf.all(JSON.stringify(keys), this.id) as [string, JournalOutcome, string | null, number | null, string | null, string | null][];
    for (const [key, outcome, reason, size, etag, acl] of rows) outcomes.set(key, { key, outcome, reason, size, etag, acl });
    return outcomes;
  }

  /** Buffers an outcome; it reaches the file with the next batch. */
  record(entry: OutcomeEntry, run?: number): void {
    if (this.#closed || this.readonly) return;
    if (this.#flushError !== undefined) throw this.#flushError;
    this.#pending.push(entry);
    this.#pendingRun = run ?? this.#pendingRun;
    if (this.#pending.length >= this.#settings.batchSize) this.flush();
    else this.#timer ??= setTimeout(() => this.#backgroundFlush(), this.#settings.flushIntervalMs).unref();
  }

  /** Writes the buffered outcomes in one transaction. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0 || this.#closed) return;
    const batch = this.#pending.splice(0);
    const run = this.#pendingRun;
    const now = Date.now();
    this.#write(() =>
      this.#db.transaction(() => {
        for (const entry of batch) {
          this.#statements.upsertObject!.run({
            scope: this.id,
            key: entry.key,
            job: entry.job,
            outcome: entry.outcome,
            reason: entry.reason ?? null,
            attempts: entry.attempts ?? 0,
            size: entry.size ?? null,
            etag: entry.etag ?? null,
            found_at: entry.foundAt ?? null,
            acl: entry.acl ?? null,
            run,
            updated_at: now,
          });
        }
      })(),
    );
  }

  #backgroundFlush(): void {
    try {
      this.flush();
    } catch (error) {
      this.#flushError = error;
    }
  }

  // --- runs -----------------------------------------------------------------

  beginRun(run: RunStart): number {
    this.flush();
    let id = 0;
    this.#write(() => {
      id = Number(
        this.#statements.insertRun.run(
          this.id,
          Date.now(),
          run.sinceMark ?? null,
          'running',
          JSON.stringify(run.jobs),
          run.kind,
          run.localOnly ? 1 : 0,
          process.pid,
          hostname(),
        ).lastInsertRowid,
      );
    });
    return id;
  }

  endRun(id: number, status: Exclude<RunStatus, 'running'>): void {
    this.flush();
    this.#write(() => this.#statements.endRun.run(Date.now(), status, id, this.id));
  }

  // The run history grows by a row a run (a delta sync every few minutes makes a hundred thousand a
  // year): these ask SQLite for the one run they need rather than reading the history at every start.

  /** The latest run that finished without being interrupted. */
  lastCompletedRun(): RunRecord | undefined {
    const row = this.#statements.lastCompletedRun.get(this.id) as RunRow | undefined;
    return row === undefined ? undefined : runRecord(row);
  }

  /** Whether a completed run considered every row of `job`: after one, re-runs trust the journal alone. */
  hasCompletedFullRun(job: string): boolean {
    return this.#statements.completedFullRunOf.get(this.id, job) !== undefined;
  }

  /**
   * What `--since last` means for these jobs: the database clock at the start of
   * the latest completed full or delta run of each job (the oldest of those), or
   * undefined when some job has none. A local-only run only serves local-only runs.
   */
  sinceLast(jobs: readonly string[], localOnly: boolean): number | undefined {
    let mark: number | undefined;
    for (const job of jobs) {
      const row = this.#statements.sinceMarkOf.get(this.id, localOnly ? 1 : 0, job) as { mark: number } | undefined;
      if (row === undefined) return undefined;
      mark = mark === undefined ? row.mark : Math.min(mark, row.mark);
    }
    return mark;
  }

  runs(limit = 20): RunRecord[] {
    return (this.#statements.runs.all(this.id, limit) as RunRow[]).map(runRecord);
  }

  /** Whether the run may still be going: recorded running, and (on this host) its process alive. */
  isAlive(run: RunRecord): boolean {
    if (run.status !== 'running') return false;
    if (run.host !== hostname()) return true;
    return run.pid === process.pid || isProcessAlive(run.pid);
  }

  // --- destination inventory ------------------------------------------------

  clearInventory(): void {
    this.#write(() => this.#statements.clearInventory.run(this.id));
  }

  addInventory(entries: readonly InventoryEntry[]): void {
    if (entries.length === 0) return;
    this.#write(() =>
      this.#db.transaction(() => {
        for (const entry of entries) this.#statements.insertInventory.run(this.id, entry.key, entry.size, entry.etag ?? null);
      })(),
    );
  }

  /** What the latest listing holds of `keys` (a database page of them, in one query); a key it does not hold is absent. */
  inventoryEntries(keys: readonly string[]): Map<string, InventoryEntry> {
    const entries = new Map<string, InventoryEntry>();
    if (keys.length === 0) return entries;
    for (const [key, size, etag] of this.#statements.inventoryOf.all(JSON.stringify(keys), this.id) as [string, number, string | null][]) {
      entries.set(key, { key, size, ...(etag !== null ? { etag } : {}) });
    }
    return entries;
  }

  // --- multipart uploads in progress ----------------------------------------

  /** Written at once, not batched: it must survive a kill that comes a second later. */
  uploadStarted(key: string, uploadId: string, run: number): void {
    if (this.readonly || this.#closed) return;
    this.#write(() => this.#statements.insertUpload.run(this.id, key, uploadId, run, Date.now()));
  }

  uploadEnded(uploadId: string): void {
    if (this.readonly || this.#closed) return;
    this.#write(() => this.#statements.deleteUpload.run(this.id, uploadId));
  }

  /** Uploads begun by runs that are no longer alive, and never completed nor aborted. */
  abandonedUploads(): { key: string; uploadId: string; startedAt: number }[] {
    const rows = this.#statements.pendingUploads.all(this.id) as { key: string; upload_id: string; started_at: number; run: number }[];
    const runs = new Map<number, RunRecord | undefined>();
    const alive = (id: number): boolean => {
      if (!runs.has(id)) runs.set(id, this.#run(id));
      const run = runs.get(id);
      return run !== undefined && this.isAlive(run);
    };
    return rows.filter((row) => !alive(row.run)).map((row) => ({ key: row.key, uploadId: row.upload_id, startedAt: row.started_at }));
  }

  #run(id: number): RunRecord | undefined {
    const row = this.#statements.getRun.get(this.id, id) as RunRow | undefined;
    return row === undefined ? undefined : runRecord(row);
  }

  // --- reading --------------------------------------------------------------

  /** Objects and bytes per job and outcome. */
  counts(): OutcomeCount[] {
    return this.#statements.counts.all(this.id) as OutcomeCount[];
  }

  /** Every key with one of `outcomes`, by job then key, streamed from the file. */
  *entries(outcomes: readonly JournalOutcome[]): IterableIterator<KeyState> {
    const statement = this.#db.prepare(
      `SELECT job, key, outcome, reason, attempts, size, etag, found_at AS foundAt, ${this.#aclColumn} AS acl, run, updated_at AS updatedAt FROM objects
       WHERE scope = ? AND outcome IN (${outcomes.map(() => '?').join(', ')}) ORDER BY job, key`,
    );
    yield* statement.iterate(this.id, ...outcomes) as IterableIterator<KeyState>;
  }

  /** Flushes and stops accepting outcomes. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      clearTimeout(this.#timer);
    }
  }

  #write(action: () => void): void {
    if (this.readonly) throw new Error(`state file ${this.#settings.file} is open read-only`);
    try {
      action();
    } catch (error) {
      throw journalError(error, this.#settings.file, 'write');
    }
  }
}

const runColumns = 'id, started_at, since_mark, finished_at, status, jobs, kind, local_only, pid, host';

/**
 * A page of keys, looked up in one statement. CROSS JOIN keeps the key list the outer loop (left to
 * itself, SQLite walks the whole scope and scans the list for each row); sorting the list first makes
 * the primary-key lookups walk the B-tree in order, and raw rows (arrays) are cheaper to build than
 * objects: about 1.6 µs a key at a million keys, against 4.7 µs for one statement a key.
 */
const pageOfKeys = '(SELECT value FROM json_each(?) ORDER BY value) AS wanted CROSS JOIN';

function prepare(db: Database.Database, aclColumn: 'acl' | 'NULL') {
  return {
    outcomesOf: db.prepare(`SELECT o.key, o.outcome, o.reason, o.size, o.etag, ${aclColumn === 'acl' ? 'o.acl' : 'NULL'} FROM ${pageOfKeys} objects AS o ON o.scope = ? AND o.key = wanted.value`).raw(),
    // Only writable files have been migrated to the acl column, and only they write.
    upsertObject: aclColumn === 'NULL' ? undefined : db.prepare(
      `INSERT INTO objects (scope, key, job, outcome, reason, attempts, size, etag, found_at, acl, run, updated_at)
       VALUES (@scope, @key, @job, @outcome, @reason, @attempts, @size, @etag, @found_at, @acl, @run, @updated_at)
       ON CONFLICT (scope, key) DO UPDATE SET job = excluded.job, outcome = excluded.outcome, reason = excluded.reason,
         attempts = excluded.attempts, size = excluded.size, etag = excluded.etag, found_at = excluded.found_at, acl = excluded.acl,
         run = excluded.run, updated_at = excluded.updated_at`,
    ),
    insertRun: db.prepare('INSERT INTO runs (scope, started_at, since_mark, status, jobs, kind, local_only, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    endRun: db.prepare('UPDATE runs SET finished_at = ?, status = ? WHERE id = ? AND scope = ?'),
    lastCompletedRun: db.prepare(`SELECT ${runColumns} FROM runs WHERE scope = ? AND status = 'completed' ORDER BY started_at DESC, id DESC LIMIT 1`),
    completedFullRunOf: db.prepare(
      `SELECT 1 FROM runs WHERE scope = ? AND status = 'completed' AND kind = 'full' AND local_only = 0
         AND EXISTS (SELECT 1 FROM json_each(runs.jobs) WHERE value = ?) LIMIT 1`,
    ),
    sinceMarkOf: db.prepare(
      `SELECT coalesce(since_mark, started_at) AS mark FROM runs
       WHERE scope = ? AND status = 'completed' AND kind <> 'partial' AND (local_only = 0 OR ?)
         AND EXISTS (SELECT 1 FROM json_each(runs.jobs) WHERE value = ?)
       ORDER BY started_at DESC, id DESC LIMIT 1`,
    ),
    runs: db.prepare(`SELECT ${runColumns} FROM runs WHERE scope = ? ORDER BY id DESC LIMIT ?`),
    getRun: db.prepare(`SELECT ${runColumns} FROM runs WHERE scope = ? AND id = ?`),
    clearInventory: db.prepare('DELETE FROM inventory WHERE scope = ?'),
    insertInventory: db.prepare('INSERT OR REPLACE INTO inventory (scope, key, size, etag) VALUES (?, ?, ?, ?)'),
    inventoryOf: db.prepare(`SELECT i.key, i.size, i.etag FROM ${pageOfKeys} inventory AS i ON i.scope = ? AND i.key = wanted.value`).raw(),
    insertUpload: db.prepare('INSERT OR REPLACE INTO uploads (scope, key, upload_id, run, started_at) VALUES (?, ?, ?, ?, ?)'),
    deleteUpload: db.prepare('DELETE FROM uploads WHERE scope = ? AND upload_id = ?'),
    pendingUploads: db.prepare('SELECT key, upload_id, run, started_at FROM uploads WHERE scope = ? ORDER BY started_at'),
    counts: db.prepare(
      'SELECT job, outcome, count(*) AS objects, coalesce(sum(size), 0) AS bytes FROM objects WHERE scope = ? GROUP BY job, outcome ORDER BY job, outcome',
    ),
  };
}

function runRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    startedAt: row.started_at,
    sinceMark: row.since_mark,
    finishedAt: row.finished_at,
    status: row.status,
    jobs: JSON.parse(row.jobs) as string[],
    kind: row.kind,
    localOnly: row.local_only === 1,
    pid: row.pid,
    host: row.host,
  };
}
