/** The jobs, named after the tables whose rows reference stored files. */
export const jobNames = [
  'accounts',
  'media_attachments',
  'custom_emojis',
  'preview_cards',
  'site_uploads',
  'backups',
  'preview_card_providers',
  'imports',
] as const;

export type JobName = (typeof jobNames)[number];

export function isJobName(name: string): name is JobName {
  return (jobNames as readonly string[]).includes(name);
}

/**
 * One stored object that a database row references: everything the copier
 * needs, and nothing about how to copy it.
 */
export interface ObjectRef {
  job: JobName;
  /** Row id as a decimal string: snowflake ids overflow JS numbers. */
  rowId: string;
  /** Paperclip attachment name, e.g. `avatar`, `file`, `thumbnail`. */
  attachment: string;
  /** Paperclip style, e.g. `original`, `small`, `static`, `@2x`, `32`. */
  style: string;
  /** The key Mastodon computes for this row today (no storage key prefix). */
  key: string;
  /**
   * The other `cache/` variant of `key`: where the object may really be when
   * Mastodon 3.1.4's storage-schema upgrade marked a row without moving it.
   * Tried in the source only when `key` is missing; the copy still lands at `key`.
   */
  alternateKey?: string;
  /** True for the `original` style: its absence is "missing"; a missing derived style is only a warning. */
  required: boolean;
  /** Objects Mastodon keeps private: backups, media of suspended accounts and of deleted statuses. */
  private: boolean;
}

/**
 * A key (or key prefix) under `cache/`: remote media Mastodon fetched from other servers and can
 * fetch again, which `--local-only` leaves out.
 */
export function isCachedRemoteMedia(key: string): boolean {
  return key.startsWith('cache/');
}

/**
 * A row as read from the database: column name to value, ids as strings. The page query sends a
 * value derivation only tests for blankness shortened (see row-sql.ts), and no diagnostic column.
 */
export type Row = Record<string, unknown>;
