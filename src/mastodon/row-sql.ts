import { joinedFields } from './models.js';
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
  return { text: `SELECT count(*)::text AS "count" FROM ${quoteIdent(schema.model.table)} AS t WHERE ${where}`, values };
}

function selectList(schema: JobSchema): string[] {
  // The id as text: exact whatever type parsers the process registered for int8.
  const list = [`t."id"::text AS "id"`];
  for (const column of schema.columns) {
    list.push(column.present ? t(column.name) : `NULL AS ${quoteIdent(column.name)}`);
  }
  if (schema.job === 'media_attachments') {
    list.push(`${accountSuspendedExpression(schema)} AS ${quoteIdent(joinedFields.accountSuspended)}`);
    list.push(`${schema.canJoinStatusDeleted ? 's."deleted_at" IS NOT NULL' : 'false'} AS ${quoteIdent(joinedFields.statusDeleted)}`);
  }
  return list;
}

function accountSuspendedExpression(schema: JobSchema): string {
  switch (schema.accountSuspendedColumn) {
    case 'suspended_at':
      return 'a."suspended_at" IS NOT NULL';
    case 'suspended':
      return 'COALESCE(a."suspended", false)';
    case null:
      return 'false';
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
    conditions.push(`(${schema.changeTimestampColumns.map((c) => `${t(c)} > ${since}`).join(' OR ')})`);
  }
  return conditions.join(' AND ');
}
