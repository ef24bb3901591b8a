import { UserError } from '../errors.js';
import { changeTimestampColumns, fileNameColumn, jobModels, selectedColumns, type JobModel } from './models.js';
import type { JobName } from './object-ref.js';

/** Table name → its column names, as the database has them. */
export type TableColumns = ReadonlyMap<string, ReadonlySet<string>>;

/** Tables read besides the jobs' own: for the private-media joins. */
export const joinTables = ['accounts', 'statuses'] as const;

/** How one job's rows are read from this particular database. */
export interface JobSchema {
  readonly job: JobName;
  readonly model: JobModel;
  /** Every column derivation reads; `present: false` ones are selected as NULL. */
  readonly columns: readonly { readonly name: string; readonly present: boolean }[];
  /** Optional columns this database lacks (an older Mastodon); they read as NULL / version 0. */
  readonly missingOptionalColumns: readonly string[];
  /** The `<att>_file_name` columns that exist: a row is read when one of them is set. */
  readonly fileNameColumns: readonly string[];
  /** The existing timestamps the `since` filter compares. */
  readonly changeTimestampColumns: readonly string[];
  /** media_attachments only: how to tell the owner is suspended (`suspended` is the pre-3.0 boolean). */
  readonly accountSuspendedColumn: 'suspended_at' | 'suspended' | null;
  /** media_attachments only: whether `statuses.deleted_at` (v3.5+) can be joined. */
  readonly canJoinStatusDeleted: boolean;
  /**
   * media_attachments only: whether the joined account's `updated_at` can tell a delta sync that
   * its media may have changed ACL (a suspension or its lifting leaves the media rows untouched).
   */
  readonly canJoinAccountUpdated: boolean;
}

/**
 * Matches a job's model against the database's columns. Pure, so older schemas can be
 * tested without a database. A missing table or required column is the admin's to fix.
 */
export function jobSchema(job: JobName, tables: TableColumns, databaseName: string): JobSchema {
  const model = jobModels[job];
  const columns = tables.get(model.table);
  if (!columns) {
    throw new UserError(
      `table "${model.table}" does not exist in database "${databaseName}" — is this a Mastodon database, and does its version have ${job}?`,
      'db.no-table',
    );
  }
  for (const name of ['id', ...selectedColumns(model).filter((c) => c.required).map((c) => c.name)]) {
    if (!columns.has(name)) {
      throw new UserError(
        `column "${model.table}"."${name}" does not exist in database "${databaseName}"` +
          ' — this does not look like a Mastodon schema this tool supports',
        'db.missing-column',
      );
    }
  }

  const selected = selectedColumns(model).map(({ name }) => ({ name, present: columns.has(name) }));
  const isMedia = job === 'media_attachments';
  const accounts = tables.get('accounts');
  const statuses = tables.get('statuses');
  const accountSuspendedColumn = isMedia && columns.has('account_id') ? suspendedColumn(accounts) : null;
  return {
    job,
    model,
    columns: selected,
    missingOptionalColumns: selected.filter((c) => !c.present).map((c) => c.name),
    fileNameColumns: model.attachments.map(fileNameColumn).filter((name) => columns.has(name)),
    changeTimestampColumns: changeTimestampColumns(model).filter((name) => columns.has(name)),
    accountSuspendedColumn,
    canJoinStatusDeleted: isMedia && columns.has('status_id') && (statuses?.has('deleted_at') ?? false),
    canJoinAccountUpdated: accountSuspendedColumn !== null && (accounts?.has('updated_at') ?? false),
  };
}

function suspendedColumn(accounts: ReadonlySet<string> | undefined): JobSchema['accountSuspendedColumn'] {
  if (accounts?.has('suspended_at')) return 'suspended_at';
  if (accounts?.has('suspended')) return 'suspended';
  return null;
}
