import { idPartition } from './id-partition.js';
import { fileNameColumn, jobModels, joinedFields, versionColumn, type AttachmentModel, type JobModel, type StyleSpec } from './models.js';
import type { JobName, ObjectRef, Row } from './object-ref.js';
import { styleFileName } from './style-file-name.js';

/** A style with its `/<style>/` key segment made once, not per row. */
interface KeyStyle {
  readonly name: string;
  readonly format: string | undefined;
  readonly segment: string;
  readonly required: boolean;
}

/** An attachment's model, prepared for deriving keys a million rows at a time. */
interface KeyAttachment {
  readonly name: string;
  readonly versioned: boolean;
  readonly fileNameColumn: string;
  readonly versionColumn: string;
  /** `<class>/<attachment plural>/` */
  readonly stem: string;
  readonly styleColumn: string | undefined;
  /** The styles a value of `styleColumn` selects, `original` first. */
  readonly stylesByValue: ReadonlyMap<string, readonly KeyStyle[]>;
  /** The styles of any other value, `original` first. */
  readonly otherwise: readonly KeyStyle[];
}

const keyStyle = (style: StyleSpec, required: boolean): KeyStyle => ({ name: style.name, format: style.format, segment: `/${style.name}/`, required });
const original = keyStyle({ name: 'original' }, true);
const withOriginal = (styles: readonly StyleSpec[]): readonly KeyStyle[] => [original, ...styles.map((style) => keyStyle(style, false))];

function keyAttachment(model: JobModel, attachment: AttachmentModel): KeyAttachment {
  const rule = attachment.styles;
  const stylesByValue = new Map<string, readonly KeyStyle[]>();
  // The first case naming a value wins, as Mastodon's branch order does.
  for (const { values, styles } of rule.cases) {
    for (const value of values) if (!stylesByValue.has(value)) stylesByValue.set(value, withOriginal(styles));
  }
  return {
    name: attachment.name,
    versioned: attachment.versioned,
    fileNameColumn: fileNameColumn(attachment),
    versionColumn: versionColumn(attachment),
    stem: `${model.classPath}/${attachment.plural}/`,
    styleColumn: rule.column,
    stylesByValue,
    otherwise: withOriginal(rule.otherwise),
  };
}

const prepared = new Map<JobModel, readonly KeyAttachment[]>();

function keyAttachmentsOf(model: JobModel): readonly KeyAttachment[] {
  let attachments = prepared.get(model);
  if (!attachments) prepared.set(model, (attachments = model.attachments.map((attachment) => keyAttachment(model, attachment))));
  return attachments;
}

/**
 * Every stored object a row references, in Paperclip's layout:
 * `[cache/]<class>/<attachment plural>/<id_partition>/<style>/<filename>`.
 * Keys are raw UTF-8 strings (legacy names may hold spaces or unicode); encoding is the storage's job.
 */
export function objectRefsForRow(job: JobName, row: Row): ObjectRef[] {
  const refs: ObjectRef[] = [];
  pushObjectRefs(job, row, refs);
  return refs;
}

/** {@link objectRefsForRow}, appended to `refs`: a batch of rows' refs in one array. */
export function pushObjectRefs(job: JobName, row: Row, refs: ObjectRef[]): void {
  const model: JobModel = jobModels[job];
  const rowId = rowIdOf(row);
  const partition = idPartition(rowId);
  const nonLocal = isNonLocal(model, row);
  const isPrivate = isPrivateRow(model, row);

  for (const attachment of keyAttachmentsOf(model)) {
    const fileName = row[attachment.fileNameColumn];
    if (typeof fileName !== 'string' || fileName === '') continue;

    // Only non-local records of attachments with a version column can be under cache/;
    // for them the other variant is worth a try (3.1.4's upgrade marked rows without moving them).
    const canBeCached = attachment.versioned && nonLocal;
    const cached = canBeCached && storageSchemaVersion(row[attachment.versionColumn]) >= 1;

    for (const style of stylesOf(attachment, row)) {
      const path = attachment.stem + partition + style.segment + styleFileName(fileName, style.name, style.format);
      if (!canBeCached) {
        refs.push({ job, rowId, attachment: attachment.name, style: style.name, key: path, required: style.required, private: isPrivate });
        continue;
      }
      const cachePath = `cache/${path}`;
      refs.push({
        job,
        rowId,
        attachment: attachment.name,
        style: style.name,
        key: cached ? cachePath : path,
        alternateKey: cached ? path : cachePath,
        required: style.required,
        private: isPrivate,
      });
    }
  }
}

function stylesOf(attachment: KeyAttachment, row: Row): readonly KeyStyle[] {
  if (attachment.styleColumn === undefined) return attachment.otherwise;
  const value = row[attachment.styleColumn];
  return (typeof value === 'string' ? attachment.stylesByValue.get(value) : undefined) ?? attachment.otherwise;
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
