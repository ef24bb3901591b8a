import Database from 'better-sqlite3';
import { UserError } from '../errors.js';
import { journalError } from './journal-error.js';
import { hasAclColumn, journalSchema, journalSchemaVersion, objectsAclColumn } from './journal-schema.js';
import { JournalScope } from './journal-scope.js';

export interface JournalOpenOptions {
  /** Open an existing file for reading only (report, dry runs); never creates it. */
  readonly?: boolean;
  /** Outcomes buffered before a write transaction. @defaultValue 500 */
  batchSize?: number;
  /** The longest an outcome waits in the buffer. @defaultValue 250 */
  flushIntervalMs?: number;
}

/**
 * The state file: a SQLite database (WAL, `synchronous=NORMAL`) holding what
 * each run did, so that the next run skips what is done without asking either
 * storage. Outcomes are written in batched transactions; a crash loses at most
 * the last batch, and losing it only means those objects are checked again.
 */
export class Journal {
  readonly file: string;
  readonly readonly: boolean;
  readonly #db: Database.Database;
  readonly #options: Required<Omit<JournalOpenOptions, 'readonly'>>;
  readonly #scopes = new Set<JournalScope>();
  #closed = false;

  private constructor(file: string, db: Database.Database, options: JournalOpenOptions) {
    this.file = file;
    this.#db = db;
    this.readonly = options.readonly === true;
    this.#options = { batchSize: options.batchSize ?? 500, flushIntervalMs: options.flushIntervalMs ?? 250 };
  }

  /** Opens (creating unless read-only) the state file. A file that cannot be used is a UserError naming it. */
  static open(file: string, options: JournalOpenOptions = {}): Journal {
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    } catch (error) {
      throw journalError(error, file, 'open');
    }
    try {
      db.pragma('busy_timeout = 10000');
      if (options.readonly !== true) {
        // WAL: readers never block the writer; NORMAL: commits are not fsynced one by one
        // (a power cut may lose the last transactions, never corrupt the file).
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec(journalSchema);
        const row = db.prepare('SELECT value FROM meta WHERE name = ?').get('schema_version') as { value: string } | undefined;
        if (row !== undefined && Number(row.value) > journalSchemaVersion) {
          throw new UserError(`state file ${file} was written by a newer mastodon-s3-sync (schema ${row.value}): upgrade, or use another --state`, 'journal.newer');
        }
        db.transaction(() => {
          if (!hasAclColumn(db)) db.exec(objectsAclColumn);
          db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run('schema_version', String(journalSchemaVersion));
        })();
      }
      db.prepare('SELECT 1 FROM objects LIMIT 1').get();
    } catch (error) {
      db.close();
      if (error instanceof UserError) throw error;
      if (error instanceof Error && /no such table/.test(error.message)) {
        throw new UserError(`${file} is not a mastodon-s3-sync state file (${error.message}): choose another --state`, 'journal.not-a-journal');
      }
      throw journalError(error, file, 'open');
    }
    return new Journal(file, db, options);
  }

  /** Whether the file has a scope for this pair already (`scope()` would create one). */
  knowsScope(source: string, destination: string): boolean {
    return this.#scopeId(source, destination) !== undefined;
  }

  /**
   * The state of one source → destination pair, identified by the storages'
   * descriptions. Read-only journals return undefined for a pair never recorded.
   */
  scope(source: string, destination: string): JournalScope | undefined {
    let id = this.#scopeId(source, destination);
    if (id === undefined) {
      if (this.readonly) return undefined;
      this.#write(() => this.#db.prepare('INSERT INTO scopes (source, destination, created_at) VALUES (?, ?, ?)').run(source, destination, Date.now()));
      id = this.#scopeId(source, destination)!;
    }
    const scope = new JournalScope(this.#db, id, { ...this.#options, readonly: this.readonly, file: this.file });
    this.#scopes.add(scope);
    return scope;
  }

  #scopeId(source: string, destination: string): number | undefined {
    const row = this.#db.prepare('SELECT id FROM scopes WHERE source = ? AND destination = ?').get(source, destination) as { id: number } | undefined;
    return row?.id;
  }

  /** Every pair the file knows, for `report` when no config names one. */
  scopes(): { id: number; source: string; destination: string }[] {
    return this.#db.prepare('SELECT id, source, destination FROM scopes ORDER BY id').all() as { id: number; source: string; destination: string }[];
  }

  /** Flushes every scope's buffer, then closes the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    try {
      for (const scope of this.#scopes) scope.close();
    } finally {
      this.#closed = true;
      this.#db.close();
    }
  }

  #write(action: () => void): void {
    try {
      action();
    } catch (error) {
      throw journalError(error, this.file, 'write');
    }
  }
}
