import { joinedFields, selectedColumns } from './models.js';
import type { JobSchema } from './job-schema.js';

export interface SqlQuery {
  readonly text: string;
  readonly values: unknown[];
}

export interface RowFilter {
  /** Keyset cursor: only rows with a larger id (compared as bigint). */
  readonly afterId?: string;
  /** Only rows changed after this instant. */
  readonly since?: Date;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const t = (column: string): string => `t.${quoteIdent(column)}`;

/** One keyset page: `WHERE id > $cursor ORDER BY id LIMIT n`, so each page is an index range scan. */
export function selectPageSql(schema: JobSchema, filter: RowFilter, limit: number): SqlQuery {
  const values: unknown[] = [];
  const where = whereClause(schema, filter, values);
  values.push(limit);
  const text = [
    `SELECT ${selectList(schema).join(', ')}`,
    `FROM ${quoteIdent(schema.model.table)} AS t`,
    ...joins(schema),
    `WHERE ${where}`,
    `ORDER BY t."id"`,
    `LIMIT $${values.length}`,
  ].join(' ');
  return { text, values };
}

export function countSql(schema: JobSchema, filter: RowFilter): SqlQuery {
  const values: unknown[] = [];
  const where = whereClause(schema, filter, values);
  // Only a delta's condition reads the joined tables; a plain count needs no join.
  const joined = filter.since !== undefined ? joins(schema) : [];
  return { text: [`SELECT count(*)::text AS "count" FROM ${quoteIdent(schema.model.table)} AS t`, ...joined, `WHERE ${where}`].join(' '), values };
}

/**
 * Only what derivation reads, as small as it can travel: parsing each field is most of the
 * client's cost of a page. Diagnostic columns stay out, and a joined flag that would be a
 * constant false on every row is left out too (an absent flag reads as false).
 */
function selectList(schema: JobSchema): string[] {
  // The id as text: exact whatever type parsers the process registered for int8.
  const list = [`t."id"::text AS "id"`];
  const diagnostic = new Set(selectedColumns(schema.model).filter((c) => c.diagnostic).map((c) => c.name));
  const blankTested = schema.model.locality.kind === 'local-when-blank' ? schema.model.locality.column : undefined;
  for (const column of schema.columns) {
    if (diagnostic.has(column.name)) continue;
    if (!column.present) list.push(`NULL AS ${quoteIdent(column.name)}`);
    else if (column.name === blankTested) list.push(`${blankTestedValue(t(column.name))} AS ${quoteIdent(column.name)}`);
    else list.push(t(column.name));
  }
  const accountSuspended = accountSuspendedExpression(schema);
  if (accountSuspended) list.push(`${accountSuspended} AS ${quoteIdent(joinedFields.accountSuspended)}`);
  if (schema.canJoinStatusDeleted) list.push(`s."deleted_at" IS NOT NULL AS ${quoteIdent(joinedFields.statusDeleted)}`);
  return list;
}

/**
 * Derivation only asks whether the column is blank (a URL: media_attachments.remote_url). An
 * http(s) URL is not, so it travels as `'http'`; anything else comes whole and is judged in JS,
 * with Ruby's `blank?` rule kept in one place.
 */
function blankTestedValue(column: string): string {
  return `CASE WHEN ${column} LIKE 'http%' THEN 'http' ELSE ${column} END`;
}

function accountSuspendedExpression(schema: JobSchema): string | undefined {
  switch (schema.accountSuspendedColumn) {
    case 'suspended_at':
      return 'a."suspended_at" IS NOT NULL';
    case 'suspended':
      return 'COALESCE(a."suspended", false)';
    case null:
      return undefined;
  }
}

function joins(schema: JobSchema): string[] {
  const list: string[] = [];
  if (schema.accountSuspendedColumn) list.push('LEFT JOIN "accounts" AS a ON a."id" = t."account_id"');
  if (schema.canJoinStatusDeleted) list.push('LEFT JOIN "statuses" AS s ON s."id" = t."status_id"');
  return list;
}

function whereClause(schema: JobSchema, filter: RowFilter, values: unknown[]): string {
  // `<> ''` also excludes NULL: rows with no file reference nothing.
  const conditions = [`(${schema.fileNameColumns.map((c) => `${t(c)} <> ''`).join(' OR ')})`];
  if (filter.afterId !== undefined) {
    values.push(filter.afterId);
    conditions.push(`t."id" > $${values.length}::bigint`);
  }
  if (filter.since !== undefined && schema.changeTimestampColumns.length > 0) {
    // Rails writes UTC into `timestamp without time zone`; compare in UTC whatever the session's TimeZone.
    values.push(filter.since.toISOString());
    const since = `($${values.length}::timestamptz AT TIME ZONE 'UTC')`;
    const changed = schema.changeTimestampColumns.map((c) => `${t(c)} > ${since}`);
    // Suspending an account (or lifting it) and deleting a status change their media's ACL, not their rows.
    if (schema.canJoinAccountUpdated) changed.push(`a."updated_at" > ${since}`);
    if (schema.canJoinStatusDeleted) changed.push(`s."deleted_at" > ${since}`);
    conditions.push(`(${changed.join(' OR ')})`);
  }
  return conditions.join(' AND ');
}
