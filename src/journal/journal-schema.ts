import type Database from 'better-sqlite3';

/**
 * The state file's tables. One file may hold several source → destination
 * pairs ("scopes"): every row of state belongs to exactly one, so a run against
 * another destination never trusts what was done for the first. Schema 2 added objects.acl.
 */
export const journalSchemaVersion = 2;

export const journalSchema = `
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS scopes (
  id          INTEGER PRIMARY KEY,
  source      TEXT NOT NULL,
  destination TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (source, destination)
);

-- The last known outcome of each key, per scope.
CREATE TABLE IF NOT EXISTS objects (
  scope      INTEGER NOT NULL,
  key        TEXT NOT NULL,
  job        TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  reason     TEXT,
  attempts   INTEGER NOT NULL DEFAULT 0,
  size       INTEGER,
  -- A single-part MD5 ETag the object has at the destination, when known: --inventory compares it.
  etag       TEXT,
  found_at   TEXT,
  -- The ACL the object was written with (copied); NULL when unknown (skipped, no ACL sent, or a schema-1 row).
  acl        TEXT,
  run        INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS runs (
  id          INTEGER PRIMARY KEY,
  scope       INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  -- The database server's clock at the start: what --since last compares row timestamps with.
  since_mark  INTEGER,
  finished_at INTEGER,
  status      TEXT NOT NULL,
  jobs        TEXT NOT NULL,
  -- full: every row of the jobs; delta: every row changed since a mark (--since); partial: anything less.
  kind        TEXT NOT NULL,
  local_only  INTEGER NOT NULL,
  -- Who runs it, so that a later run can tell a crashed run from one still going.
  pid         INTEGER NOT NULL,
  host        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_scope ON runs (scope, status, started_at);

-- The latest listing of the destination.
CREATE TABLE IF NOT EXISTS inventory (
  scope INTEGER NOT NULL,
  key   TEXT NOT NULL,
  size  INTEGER NOT NULL,
  etag  TEXT,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- Multipart uploads begun and not yet completed or aborted: a crash leaves them for the next run to abort.
CREATE TABLE IF NOT EXISTS uploads (
  scope      INTEGER NOT NULL,
  key        TEXT NOT NULL,
  upload_id  TEXT NOT NULL,
  run        INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (scope, upload_id)
);
`;

/** Schema 1 → 2: a column, NULL for the rows written before it. */
export const objectsAclColumn = 'ALTER TABLE objects ADD COLUMN acl TEXT';

/** Whether the file's objects table has the acl column (a schema-1 file opened read-only has not). */
export function hasAclColumn(db: Database.Database): boolean {
  return db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get('objects', 'acl') !== undefined;
}
