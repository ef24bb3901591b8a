import type { JobName } from './object-ref.js';

/**
 * What Mastodon's Paperclip declarations say about each table with attachments,
 * written as data so that a version difference is an edit to a table, not a new branch.
 * Sources: shared/mastodon-storage.md section (b), checked against Mastodon main df1439c
 * (docs/mastodon-source-check.md: files, commits, and where that document is wrong) and the
 * site_upload.rb history.
 */

/** A non-original Paperclip style. */
export interface StyleSpec {
  /** The `<style>` path segment, e.g. `small`, `static`, `@2x`, `32`. */
  readonly name: string;
  /** The style's Paperclip `format`: the extension of its file. Absent: the original's extension. */
  readonly format?: string;
}

/**
 * The non-original styles of an attachment, chosen by one row column (a content
 * type, or `site_uploads.var`). `original` always exists and is not listed.
 */
export interface StyleRule {
  /** The row column whose value picks a case; absent when the styles never vary. */
  readonly column?: string;
  readonly cases: readonly { readonly values: readonly string[]; readonly styles: readonly StyleSpec[] }[];
  readonly otherwise: readonly StyleSpec[];
}

export interface AttachmentModel {
  /** Paperclip attachment name, e.g. `avatar`; its columns are `<name>_file_name` etc. */
  readonly name: string;
  /** The `<attachment>` path segment: the pluralized name. */
  readonly plural: string;
  /**
   * Mastodon has a `<name>_storage_schema_version` column for it, so it can live under
   * `cache/`. On databases too old to have the column, the version reads as 0.
   */
  readonly versioned: boolean;
  /** Its columns are missing on older schemas (media thumbnails before v3.2); absent means no file. */
  readonly optional: boolean;
  readonly styles: StyleRule;
  /** Where Mastodon fetched it from, for diagnostics only (not read by enumeration); absent on some versions. */
  readonly remoteUrlColumn?: string;
}

/** How the model's `local?` is computed; non-local records with version ≥ 1 live under `cache/`. */
export type Locality =
  /** `domain.nil?` (Account, CustomEmoji) */
  | { readonly kind: 'local-when-null'; readonly column: string }
  /** `remote_url.blank?` (MediaAttachment) */
  | { readonly kind: 'local-when-blank'; readonly column: string }
  /** PreviewCard#local? is always false */
  | { readonly kind: 'never-local' }
  /** No `local?` method, so Paperclip never adds `cache/` */
  | { readonly kind: 'no-local-method' };

/** Which objects Mastodon uploads with a private ACL. */
export type Privacy =
  | 'public'
  /** Backup dumps. */
  | 'always'
  /** Media of suspended accounts (v3.3+) and of soft-deleted statuses kept for reports (v4.4+). */
  | 'suspended-account-or-deleted-status';

export interface JobModel {
  readonly job: JobName;
  /** The table holding the rows; equal to the job name. */
  readonly table: string;
  /** The `<class>` path segment: the model class name, underscored and pluralized. */
  readonly classPath: string;
  /** In declaration order; the first is the main one, whose columns every schema has. */
  readonly attachments: readonly AttachmentModel[];
  readonly locality: Locality;
  readonly privacy: Privacy;
}

/** Fields media_attachments rows carry from joins, for the private ACL rule. */
export const joinedFields = {
  accountSuspended: 'account_suspended',
  statusDeleted: 'status_deleted',
} as const;

const png = (name: string): StyleSpec => ({ name, format: 'png' });
const fixedStyles = (...styles: StyleSpec[]): StyleRule => ({ cases: [], otherwise: styles });
const onlyOriginal = fixedStyles();

/** Account::Avatar / Account::Header: a png `static` only for GIFs. */
const profileImageStyles = (attachment: string): StyleRule => ({
  column: `${attachment}_content_type`,
  cases: [{ values: ['image/gif'], styles: [png('static')] }],
  otherwise: [],
});

/** MediaAttachment.file_styles, branch for branch, decided by the current file_content_type. */
const mediaFileStyles: StyleRule = {
  column: 'file_content_type',
  cases: [
    // VIDEO_CONVERTED_STYLES
    { values: ['image/gif', 'video/webm', 'video/quicktime'], styles: [png('small')] },
    // IMAGE_CONVERTED_STYLES
    { values: ['image/heic', 'image/heif', 'image/avif'], styles: [{ name: 'small', format: 'jpeg' }] },
    // IMAGE_STYLES: `small` keeps the original's extension, so it has the same name.
    { values: ['image/jpeg', 'image/png', 'image/webp'], styles: [{ name: 'small' }] },
    // VIDEO_STYLES
    { values: ['video/mp4', 'video/ogg'], styles: [png('small')] },
  ],
  // AUDIO_STYLES (and anything unrecognised): original only.
  otherwise: [],
};

const faviconSizes = [16, 32, 48];
const appIconSizes = [36, 48, 57, 60, 72, 76, 96, 114, 120, 144, 152, 167, 180, 192, 256, 384, 512, 1024];

/** SiteUpload::STYLES, keyed by `var`; `mascot` and legacy vars have no styles. */
const siteUploadStyles: StyleRule = {
  column: 'var',
  cases: [
    { values: ['thumbnail'], styles: [png('@1x'), png('@2x')] },
    // No `ico` style: it lived on main only from #30208 to #30375 (May–June 2024), never in a release.
    { values: ['favicon'], styles: faviconSizes.map((size) => png(String(size))) },
    { values: ['app_icon'], styles: appIconSizes.map((size) => png(String(size))) },
  ],
  otherwise: [],
};

function attachment(
  name: string,
  plural: string,
  styles: StyleRule,
  options: { versioned?: boolean; optional?: boolean; remoteUrlColumn?: string } = {},
): AttachmentModel {
  const { versioned = false, optional = false, remoteUrlColumn } = options;
  return { name, plural, styles, versioned, optional, ...(remoteUrlColumn ? { remoteUrlColumn } : {}) };
}

export const jobModels: { readonly [J in JobName]: JobModel & { readonly job: J } } = {
  accounts: {
    job: 'accounts',
    table: 'accounts',
    classPath: 'accounts',
    attachments: [
      attachment('avatar', 'avatars', profileImageStyles('avatar'), { versioned: true, remoteUrlColumn: 'avatar_remote_url' }),
      attachment('header', 'headers', profileImageStyles('header'), { versioned: true, remoteUrlColumn: 'header_remote_url' }),
    ],
    locality: { kind: 'local-when-null', column: 'domain' },
    privacy: 'public',
  },
  media_attachments: {
    job: 'media_attachments',
    table: 'media_attachments',
    classPath: 'media_attachments',
    attachments: [
      attachment('file', 'files', mediaFileStyles, { versioned: true, remoteUrlColumn: 'remote_url' }),
      // thumbnail_storage_schema_version exists only from v4.6; before it remote thumbnails were never under cache/.
      attachment('thumbnail', 'thumbnails', onlyOriginal, {
        versioned: true,
        optional: true,
        remoteUrlColumn: 'thumbnail_remote_url',
      }),
    ],
    locality: { kind: 'local-when-blank', column: 'remote_url' },
    privacy: 'suspended-account-or-deleted-status',
  },
  custom_emojis: {
    job: 'custom_emojis',
    table: 'custom_emojis',
    classPath: 'custom_emojis',
    attachments: [attachment('image', 'images', fixedStyles(png('static')), { versioned: true, remoteUrlColumn: 'image_remote_url' })],
    locality: { kind: 'local-when-null', column: 'domain' },
    privacy: 'public',
  },
  preview_cards: {
    job: 'preview_cards',
    table: 'preview_cards',
    classPath: 'preview_cards',
    // A GIF's original style has format jpg, but `original` always keeps the DB name.
    // No remote-url column at any version (`image_remote_url=` is a virtual setter).
    attachments: [attachment('image', 'images', onlyOriginal, { versioned: true })],
    locality: { kind: 'never-local' },
    privacy: 'public',
  },
  site_uploads: {
    job: 'site_uploads',
    table: 'site_uploads',
    classPath: 'site_uploads',
    attachments: [attachment('file', 'files', siteUploadStyles)],
    locality: { kind: 'no-local-method' },
    privacy: 'public',
  },
  backups: {
    job: 'backups',
    table: 'backups',
    classPath: 'backups',
    attachments: [attachment('dump', 'dumps', onlyOriginal)],
    locality: { kind: 'no-local-method' },
    privacy: 'always',
  },
  preview_card_providers: {
    job: 'preview_card_providers',
    table: 'preview_card_providers',
    classPath: 'preview_card_providers',
    attachments: [attachment('icon', 'icons', fixedStyles(png('static')))],
    locality: { kind: 'no-local-method' },
    privacy: 'public',
  },
  imports: {
    job: 'imports',
    table: 'imports',
    classPath: 'imports',
    attachments: [attachment('data', 'data', onlyOriginal)],
    locality: { kind: 'no-local-method' },
    privacy: 'public',
  },
};

export const fileNameColumn = (attachment: AttachmentModel): string => `${attachment.name}_file_name`;
export const versionColumn = (attachment: AttachmentModel): string => `${attachment.name}_storage_schema_version`;
const updatedAtColumn = (attachment: AttachmentModel): string => `${attachment.name}_updated_at`;

export interface ColumnNeed {
  readonly name: string;
  /** Missing on the database → UserError. Otherwise it is selected as NULL. */
  readonly required: boolean;
  /** Derivation never reads it: the schema check knows it, the page query leaves it out. */
  readonly diagnostic: boolean;
}

/** The columns of this job's rows the tool knows (what derivation reads, and diagnostics), besides `id` and joined fields. */
export function selectedColumns(model: JobModel): ColumnNeed[] {
  const needs = new Map<string, { required: boolean; diagnostic: boolean }>();
  const need = (name: string, required: boolean, diagnostic = false): void => {
    const known = needs.get(name);
    needs.set(name, { required: (known?.required ?? false) || required, diagnostic: (known?.diagnostic ?? true) && diagnostic });
  };
  if (model.locality.kind === 'local-when-null' || model.locality.kind === 'local-when-blank') {
    need(model.locality.column, true);
  }
  for (const att of model.attachments) {
    need(fileNameColumn(att), !att.optional);
    if (att.styles.column) need(att.styles.column, !att.optional);
    if (att.versioned) need(versionColumn(att), false);
    if (att.remoteUrlColumn) need(att.remoteUrlColumn, false, true);
  }
  return [...needs].map(([name, { required, diagnostic }]) => ({ name, required, diagnostic }));
}

/** Timestamps that move when a row's files change: the `since` filter of delta syncs. */
export function changeTimestampColumns(model: JobModel): string[] {
  return ['updated_at', ...model.attachments.map(updatedAtColumn)];
}
