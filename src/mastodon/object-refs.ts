import { idPartition } from './id-partition.js';
import { fileNameColumn, jobModels, joinedFields, versionColumn, type JobModel, type StyleRule, type StyleSpec } from './models.js';
import type { JobName, ObjectRef, Row } from './object-ref.js';
import { styleFileName } from './style-file-name.js';

const original: StyleSpec = { name: 'original' };

/**
 * Every stored object a row references, in Paperclip's layout:
 * `[cache/]<class>/<attachment plural>/<id_partition>/<style>/<filename>`.
 * Keys are raw UTF-8 strings (legacy names may hold spaces or unicode); encoding is the storage's job.
 */
export function objectRefsForRow(job: JobName, row: Row): ObjectRef[] {
  const model: JobModel = jobModels[job];
  const rowId = rowIdOf(row);
  const partition = idPartition(rowId);
  const nonLocal = isNonLocal(model, row);
  const isPrivate = isPrivateRow(model, row);

  const refs: ObjectRef[] = [];
  for (const attachment of model.attachments) {
    const fileName = row[fileNameColumn(attachment)];
    if (typeof fileName !== 'string' || fileName === '') continue;

    // Only non-local records of attachments with a version column can be under cache/;
    // for them the other variant is worth a try (3.1.4's upgrade marked rows without moving them).
    const canBeCached = attachment.versioned && nonLocal;
    const cached = canBeCached && storageSchemaVersion(row[versionColumn(attachment)]) >= 1;

    for (const style of [original, ...stylesOf(attachment.styles, row)]) {
      const path = [model.classPath, attachment.plural, partition, style.name, styleFileName(fileName, style.name, style.format)].join('/');
      const cachePath = `cache/${path}`;
      refs.push({
        job,
        rowId,
        attachment: attachment.name,
        style: style.name,
        key: cached ? cachePath : path,
        ...(canBeCached ? { alternateKey: cached ? path : cachePath } : {}),
        required: style === original,
        private: isPrivate,
      });
    }
  }
  return refs;
}

function stylesOf(rule: StyleRule, row: Row): readonly StyleSpec[] {
  if (rule.column === undefined) return rule.otherwise;
  const value = row[rule.column];
  const match = rule.cases.find((c) => typeof value === 'string' && c.values.includes(value));
  return match ? match.styles : rule.otherwise;
}

function isNonLocal(model: JobModel, row: Row): boolean {
  const locality = model.locality;
  switch (locality.kind) {
    case 'local-when-null':
      return row[locality.column] !== null && row[locality.column] !== undefined;
    case 'local-when-blank': {
      // Ruby's `blank?`: nil, empty, or whitespace only.
      const value = row[locality.column];
      return typeof value === 'string' && /\S/u.test(value);
    }
    case 'never-local':
      return true;
    case 'no-local-method':
      return false;
  }
}

function isPrivateRow(model: JobModel, row: Row): boolean {
  switch (model.privacy) {
    case 'always':
      return true;
    case 'suspended-account-or-deleted-status':
      return row[joinedFields.accountSuspended] === true || row[joinedFields.statusDeleted] === true;
    case 'public':
      return false;
  }
}

/** Paperclip reads `instance_read(:storage_schema_version) || 0`: NULL or a missing column is 0. */
function storageSchemaVersion(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 0;
}

function rowIdOf(row: Row): string {
  const id = row['id'];
  if (typeof id === 'string') return id;
  if (typeof id === 'bigint') return id.toString();
  // A JS number is only exact up to 2^53; larger ids must arrive as strings.
  if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  throw new TypeError(`row id must be a decimal string, got ${typeof id} ${String(id)}`);
}
