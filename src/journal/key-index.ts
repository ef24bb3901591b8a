import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InventoryEntry } from './journal-scope.js';

/** A key the database references, as `verify` and `orphans` need it. */
export interface ReferencedKey {
  job: string;
  key: string;
  /** The other `cache/` variant, where the source may hold it instead. */
  alternateKey?: string;
  required: boolean;
}

export type ListingSide = 'source' | 'destination';

/** One referenced key with what each listing found (verify). */
export interface KeyComparison {
  job: string;
  key: string;
  required: boolean;
  /** At the key, else at its other `cache/` variant. */
  source?: InventoryEntry;
  destination?: InventoryEntry;
}

const sides: Record<ListingSide, number> = { source: 0, destination: 1 };

/**
 * Scratch sets for the read-only commands: the referenced keys and storage
 * listings, in a SQLite file in the system's temporary directory (removed on
 * close), so that millions of keys cost disk pages, not JavaScript heap. Never
 * the journal: `verify` and `orphans` leave the state file alone.
 */
export class KeyIndex {
  readonly #db: Database.Database;
  readonly #directory: string;
  readonly #insertRef: Database.Statement;
  readonly #insertListed: Database.Statement;
  /** A command that exits before close() (Ctrl-C: exit 130) still takes the scratch file with it; it may hold gigabytes. */
  readonly #removeOnExit = (): void => rmSync(this.#directory, { recursive: true, force: true });

  private constructor(directory: string) {
    this.#directory = directory;
    this.#db = new Database(path.join(directory, 'keys.sqlite'));
    // Scratch data: no journal, no fsync; a crash simply loses it.
    this.#db.pragma('journal_mode = OFF');
    this.#db.pragma('synchronous = OFF');
    this.#db.pragma('temp_store = FILE');
    this.#db.exec(`
      CREATE TABLE refs (key TEXT PRIMARY KEY, alt TEXT, job TEXT NOT NULL, required INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE listed (side INTEGER NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT, PRIMARY KEY (side, key)) WITHOUT ROWID;
    `);
    this.#insertRef = this.#db.prepare('INSERT OR REPLACE INTO refs (key, alt, job, required) VALUES (?, ?, ?, ?)');
    this.#insertListed = this.#db.prepare('INSERT OR REPLACE INTO listed (side, key, size, etag) VALUES (?, ?, ?, ?)');
    process.once('exit', this.#removeOnExit);
  }

  static open(): KeyIndex {
    const directory = mkdtempSync(path.join(tmpdir(), 'mastodon-s3-sync-'));
    try {
      return new KeyIndex(directory);
    } catch (error) {
      rmSync(directory, { recursive: true, force: true });
      throw error;
    }
  }

  addReferenced(keys: readonly ReferencedKey[]): void {
    this.#db.transaction(() => {
      for (const ref of keys) this.#insertRef.run(ref.key, ref.alternateKey ?? null, ref.job, ref.required ? 1 : 0);
    })();
  }

  addListed(side: ListingSide, entries: readonly InventoryEntry[]): void {
    this.#db.transaction(() => {
      for (const entry of entries) this.#insertListed.run(sides[side], entry.key, entry.size, entry.etag ?? null);
    })();
  }

  /** Every referenced key with the source's and destination's listings of it, by job and key. */
  *compare(): IterableIterator<KeyComparison> {
    // The alternate index is built only now, after the bulk inserts.
    this.#db.exec('CREATE INDEX IF NOT EXISTS refs_alt ON refs (alt)');
    const statement = this.#db.prepare(`
      SELECT r.job, r.key, r.required,
             coalesce(s1.key, s2.key) AS s_key, coalesce(s1.size, s2.size) AS s_size, CASE WHEN s1.key IS NOT NULL THEN s1.etag ELSE s2.etag END AS s_etag,
             d.size AS d_size, d.etag AS d_etag
      FROM refs r
      LEFT JOIN listed s1 ON s1.side = 0 AND s1.key = r.key
      LEFT JOIN listed s2 ON s2.side = 0 AND s2.key = r.alt
      LEFT JOIN listed d ON d.side = 1 AND d.key = r.key
      ORDER BY r.job, r.key`);
    type Row = { job: string; key: string; required: number; s_key: string | null; s_size: number | null; s_etag: string | null; d_size: number | null; d_etag: string | null };
    for (const row of statement.iterate() as IterableIterator<Row>) {
      yield {
        job: row.job,
        key: row.key,
        required: row.required === 1,
        ...(row.s_key !== null ? { source: entry(row.s_key, row.s_size!, row.s_etag) } : {}),
        ...(row.d_size !== null ? { destination: entry(row.key, row.d_size, row.d_etag) } : {}),
      };
    }
  }

  /** Listed objects of `side` that no referenced key (nor its other `cache/` variant) names, by key. */
  *unreferenced(side: ListingSide): IterableIterator<InventoryEntry> {
    this.#db.exec('CREATE INDEX IF NOT EXISTS refs_alt ON refs (alt)');
    const statement = this.#db.prepare(`
      SELECT l.key, l.size, l.etag FROM listed l
      WHERE l.side = ? AND NOT EXISTS (SELECT 1 FROM refs r WHERE r.key = l.key) AND NOT EXISTS (SELECT 1 FROM refs r WHERE r.alt = l.key)
      ORDER BY l.key`);
    for (const row of statement.iterate(sides[side]) as IterableIterator<{ key: string; size: number; etag: string | null }>) {
      yield entry(row.key, row.size, row.etag);
    }
  }

  listedCount(side: ListingSide): number {
    return (this.#db.prepare('SELECT count(*) AS count FROM listed WHERE side = ?').get(sides[side]) as { count: number }).count;
  }

  referencedCount(): number {
    return (this.#db.prepare('SELECT count(*) AS count FROM refs').get() as { count: number }).count;
  }

  close(): void {
    try {
      this.#db.close();
    } finally {
      process.off('exit', this.#removeOnExit);
      this.#removeOnExit();
    }
  }
}

function entry(key: string, size: number, etag: string | null): InventoryEntry {
  return { key, size, ...(etag !== null ? { etag } : {}) };
}
