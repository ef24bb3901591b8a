/**
 * The synthetic instance as data: every database row, and every object the source store must
 * hold (the referenced ones at their keys, plus orphans no row references). Pure and
 * deterministic — the same options always give the same plan — so tests can check it without
 * a database, and the bench, the demo and the tests all see the same instance for one seed.
 *
 * Which keys a row references is NOT decided here: it asks the tool's own derivation
 * (src/mastodon/object-refs.ts). The generator and the tool therefore cannot drift apart
 * silently; test/tools/ checks a few hand-written keys to catch a derivation that drifts from
 * Mastodon itself.
 */
import { idPartition } from '../../src/mastodon/id-partition.js';
import { jobNames, type JobName, type ObjectRef } from '../../src/mastodon/object-ref.js';
import { objectRefsForRow } from '../../src/mastodon/object-refs.js';
import { contentTypeFor } from './content.js';
import { Random } from './random.js';

export type TableName = Exclude<JobName, 'imports'>;
export const tableNames: readonly TableName[] = jobNames.filter((job): job is TableName => job !== 'imports');

/** One database row: column name to value, ids as decimal strings. */
export type DbRow = Record<string, unknown>;

export type Acl = 'public-read' | 'private';

/** One object to write into the source store. */
export interface PlannedObject {
  /** Where it is stored in the source. */
  key: string;
  size: number;
  contentType: string;
  acl: Acl;
  /** `referenced`: at its key; `misplaced`: a referenced object under its other cache/ variant; `orphan`: no row references it. */
  kind: 'referenced' | 'misplaced' | 'orphan';
  /** For referenced and misplaced objects: the key Mastodon computes (where a copy must land). */
  referencedKey?: string;
  job?: JobName;
}

export interface SizeProfile {
  name: 'tiny' | 'normal';
  imageMax: number;
  videoMax: number;
  backupMax: number;
}

export interface PlanOptions {
  /** About how many objects the rows reference (1000, 10000, 100000...). */
  scale: number;
  seed: string;
  /**
   * Real-world oddities: an avatar left at its pre-3.1.4 key although the row says cache/,
   * an original gone from the storage, derived styles never made, legacy file names with
   * spaces. On for the demo and the tests; off for the bench, so that every tool gets the
   * same clean key list.
   */
  anomalies: boolean;
}

export interface InstancePlan {
  options: PlanOptions;
  profile: SizeProfile;
  /** Rows per table, in id order. */
  rows: Record<TableName, DbRow[]>;
  /** Rows that reference at least one file, per table: what `sync` counts as rows. */
  rowsWithFiles: Record<TableName, number>;
  /** Every key the rows reference, in the order the `keys` command lists them. */
  referencedKeys: string[];
  /** What the source store holds. */
  objects: PlannedObject[];
  /** Referenced keys deliberately absent from the source (anomalies only). */
  absentKeys: string[];
  /** Keys of the orphans: stored in the source, referenced by no row, never to be copied. */
  orphanKeys: string[];
  /** Referenced keys stored under their other cache/ variant (anomalies only). */
  misplaced: { key: string; storedAt: string }[];
}

const KB = 1024;
const MB = 1024 * 1024;

export function sizeProfile(scale: number): SizeProfile {
  if (scale < 1000) return { name: 'tiny', imageMax: 300 * KB, videoMax: 1 * MB, backupMax: 512 * KB };
  return {
    name: 'normal',
    imageMax: 5 * MB,
    // 1k objects: videos up to 12 MB; 10k: 120 MB; 100k and more: 250 MB.
    videoMax: Math.min(250 * MB, Math.round(scale * 12 * KB)),
    backupMax: Math.min(200 * MB, Math.round(scale * 4 * KB)),
  };
}

/** Parses `1k`, `10k`, `100k`, `1m` or a plain number. */
export function parseScale(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  if (!match) throw new Error(`scale must be a number such as 1000, 10k or 100k, not "${text}"`);
  const factor = { '': 1, k: 1000, m: 1_000_000 }[(match[2] ?? '').toLowerCase() as '' | 'k' | 'm'];
  const scale = Math.round(Number(match[1]) * factor);
  if (scale < 50) throw new Error('scale must be at least 50 objects');
  return scale;
}

// --- hand-picked rows present in every instance --------------------------------------------

/**
 * Rows with fixed ids and names, one per interesting layout rule, whose keys test/tools/
 * writes out by hand. Their ids are reserved so random rows never collide with them.
 */
export const landmarks = {
  localAccount: { id: '12345', avatar: 'a1b2c3d4e5f60718.gif', header: 'b1c2d3e4f5a60718.jpeg' },
  remoteAccount: { id: '109283929999999999', domain: 'remote.example', avatar: '5f952d09eed7d402.png' },
  oldRemoteAccount: { id: '4242', domain: 'old.example', avatar: '0123456789abcdef.webp' },
  localVideo: { id: '110123456789012345', file: 'ab12cd34ef56ab78.mp4', thumbnail: 'c0ffee0123456789.jpeg' },
  remoteImage: { id: '114451757786922201', file: '520bab958952f332.jpeg' },
  oldRemoteImage: { id: '987654', file: 'feedfacecafebeef.png' },
  remoteVideoWithCachedThumbnail: { id: '115555555555555555', file: 'deadbeef00112233.mp4', thumbnail: 'deadbeef44556677.png' },
  remoteEmoji: { id: '42', domain: 'remote.example', image: 'cafe0123456789ab.gif' },
  previewCard: { id: '7', image: '0a1b2c3d4e5f6a7b.jpg' },
  favicon: { id: '2', file: 'fa71c0de00000001.ico' },
  backup: { id: '1', dump: 'archive-20240101120000-0123456789abcdef0123456789abcdef.zip' },
} as const;

// --- the planner ------------------------------------------------------------------------------

const remoteDomains = Array.from({ length: 40 }, (_, i) => `${['social', 'mastodon', 'fedi', 'toot', 'masto'][i % 5]}${i}.example`);
const mastodonEpoch = Date.UTC(2019, 0, 1);
const planEnd = Date.UTC(2026, 5, 1);
/** Media ids became snowflakes in v3.2 (mid-2020); earlier media kept serial ids. */
const mediaSnowflakeStart = Date.UTC(2020, 6, 1);

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

function snowflake(ms: number, sequence: number): string {
  return ((BigInt(ms) << 16n) | BigInt(sequence & 0xffff)).toString();
}

function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 16n);
}

interface MediaKind {
  name: 'jpeg' | 'png' | 'webp' | 'heic' | 'static-gif' | 'gifv' | 'video' | 'mov' | 'audio' | 'none';
  contentType: string | null;
  extension: string;
  type: number;
}

const mediaKinds: readonly (readonly [MediaKind, number])[] = [
  [{ name: 'jpeg', contentType: 'image/jpeg', extension: 'jpeg', type: 0 }, 30],
  [{ name: 'jpeg', contentType: 'image/jpeg', extension: 'jpg', type: 0 }, 15],
  [{ name: 'png', contentType: 'image/png', extension: 'png', type: 0 }, 15],
  [{ name: 'webp', contentType: 'image/webp', extension: 'webp', type: 0 }, 7],
  [{ name: 'heic', contentType: 'image/heic', extension: 'heic', type: 0 }, 2],
  [{ name: 'static-gif', contentType: 'image/gif', extension: 'gif', type: 0 }, 2],
  // Animated GIFs are converted: an .mp4 original and a png small, type gifv.
  [{ name: 'gifv', contentType: 'video/mp4', extension: 'mp4', type: 1 }, 8],
  [{ name: 'video', contentType: 'video/mp4', extension: 'mp4', type: 2 }, 11],
  // A .mov still being processed: original plus png small.
  [{ name: 'mov', contentType: 'video/quicktime', extension: 'mov', type: 2 }, 0.5],
  [{ name: 'audio', contentType: 'audio/mpeg', extension: 'mp3', type: 4 }, 3],
  // A remote attachment never downloaded: no file at all, so the row is not even read.
  [{ name: 'none', contentType: null, extension: '', type: 3 }, 3],
];

const avatarTypes: readonly (readonly [[string, string], number])[] = [
  [['image/jpeg', 'jpeg'], 30],
  [['image/jpeg', 'jpg'], 15],
  [['image/png', 'png'], 35],
  [['image/gif', 'gif'], 12],
  [['image/webp', 'webp'], 8],
];

const headerTypes: readonly (readonly [[string, string], number])[] = [
  [['image/jpeg', 'jpeg'], 40],
  [['image/jpeg', 'jpg'], 20],
  [['image/png', 'png'], 30],
  [['image/gif', 'gif'], 5],
  [['image/webp', 'webp'], 5],
];

class Planner {
  readonly random: Random;
  readonly profile: SizeProfile;
  readonly rows: Record<TableName, DbRow[]> = {
    accounts: [],
    media_attachments: [],
    custom_emojis: [],
    preview_cards: [],
    site_uploads: [],
    backups: [],
    preview_card_providers: [],
  };
  /** Keys referenced so far, per job: the budget counter. */
  readonly keyCount = new Map<TableName, number>(tableNames.map((t) => [t, 0]));
  readonly usedIds = new Map<TableName, Set<string>>(tableNames.map((t) => [t, new Set<string>()]));
  readonly usedNames = new Set<string>();
  readonly suspended = new Set<string>();
  readonly localAccounts: string[] = [];
  readonly remoteAccounts: string[] = [];
  /** Per referenced key: size and ACL. */
  readonly sizes = new Map<string, number>();
  largestVideoPlaced = false;
  serial = new Map<TableName, number>();

  constructor(readonly options: PlanOptions) {
    this.random = new Random(`synthetic-instance:${options.seed}`);
    this.profile = sizeProfile(options.scale);
    for (const table of tableNames) this.serial.set(table, 0);
  }

  fileName(extension: string): string {
    for (;;) {
      const name = `${this.random.hex(16)}.${extension}`;
      if (!this.usedNames.has(name)) {
        this.usedNames.add(name);
        return name;
      }
    }
  }

  nextSerial(table: TableName): string {
    const used = this.usedIds.get(table)!;
    let next = this.serial.get(table)!;
    do next += 1;
    while (used.has(String(next)));
    this.serial.set(table, next);
    return String(next);
  }

  uniqueId(table: TableName, make: () => string): string {
    const used = this.usedIds.get(table)!;
    for (;;) {
      const id = make();
      if (!used.has(id)) return id;
    }
  }

  /** Adds a row and books the keys the tool derives from it, sized by `sizeOf`. */
  add(table: TableName, row: DbRow, sizeOf: (ref: ObjectRef) => number): ObjectRef[] {
    const id = String(row['id']);
    this.usedIds.get(table)!.add(id);
    this.rows[table].push(row);
    const refs = objectRefsForRow(table, this.derivationRow(table, row));
    for (const ref of refs) {
      if (this.sizes.has(ref.key)) throw new Error(`two rows reference ${ref.key}`);
      this.sizes.set(ref.key, Math.max(1, Math.round(sizeOf(ref))));
    }
    this.keyCount.set(table, this.keyCount.get(table)! + refs.length);
    return refs;
  }

  /** The row as the tool reads it: ids as strings, plus the joined private-media fields. */
  derivationRow(table: TableName, row: DbRow): DbRow {
    if (table !== 'media_attachments') return row;
    return { ...row, account_suspended: this.suspended.has(String(row['account_id'])), status_deleted: false };
  }

  // --- accounts ---

  account(options: {
    id: string;
    domain: string | null;
    username: string;
    version: number | null;
    avatar?: [string, string] | undefined;
    header?: [string, string] | undefined;
    suspended?: boolean;
    createdAt: number;
  }): void {
    const remote = options.domain !== null;
    const [avatarName, avatarType] = options.avatar ?? [null, null];
    const [headerName, headerType] = options.header ?? [null, null];
    const created = timestamp(options.createdAt);
    const row: DbRow = {
      id: options.id,
      username: options.username,
      domain: options.domain,
      created_at: created,
      updated_at: created,
      uri: remote ? `https://${options.domain}/users/${options.username}` : '',
      url: remote ? `https://${options.domain}/@${options.username}` : null,
      display_name: options.username,
      avatar_file_name: avatarName,
      avatar_content_type: avatarType,
      avatar_file_size: null,
      avatar_updated_at: avatarName === null ? null : created,
      avatar_remote_url: remote && avatarName !== null ? `https://${options.domain}/system/avatars/${avatarName}` : null,
      avatar_storage_schema_version: avatarName === null ? null : options.version,
      header_file_name: headerName,
      header_content_type: headerType,
      header_file_size: null,
      header_updated_at: headerName === null ? null : created,
      header_remote_url: remote && headerName !== null ? `https://${options.domain}/system/headers/${headerName}` : '',
      header_storage_schema_version: headerName === null ? null : options.version,
      suspended_at: options.suspended === true ? created : null,
      actor_type: 'Person',
    };
    if (options.suspended === true) this.suspended.add(options.id);
    (remote ? this.remoteAccounts : this.localAccounts).push(options.id);
    const r = this.random;
    const refs = this.add('accounts', row, (ref) => {
      if (ref.attachment === 'avatar') return ref.style === 'original' ? r.logUniform(30 * KB, 100 * KB) : r.logUniform(15 * KB, 60 * KB);
      return ref.style === 'original' ? r.logUniform(80 * KB, 400 * KB) : r.logUniform(40 * KB, 200 * KB);
    });
    this.fillSizes(row, refs);
  }

  /** Records the original's size in the row's `<att>_file_size`, as Paperclip does. */
  fillSizes(row: DbRow, refs: readonly ObjectRef[]): void {
    for (const ref of refs) if (ref.style === 'original') row[`${ref.attachment}_file_size`] = this.sizes.get(ref.key);
  }

  randomAccount(): void {
    const r = this.random;
    const index = this.rows.accounts.length;
    const remote = r.chance(0.8);
    const old = r.chance(remote ? 0.15 : 0.4);
    const createdAt = old ? r.int(Date.UTC(2017, 0, 1), Date.UTC(2021, 2, 1)) : r.int(Date.UTC(2021, 2, 6), planEnd);
    const id = this.uniqueId('accounts', () => (old ? String(r.int(1, 999_999)) : snowflake(createdAt, r.int(0, 0xffff))));
    const domain = remote ? r.pick(remoteDomains) : null;
    const avatarType = r.weighted(avatarTypes);
    const headerType = r.weighted(headerTypes);
    this.account({
      id,
      domain,
      username: `user${index}`,
      // Remote profile pictures fetched before 3.1.4 stay at version 0 (NULL): no cache/ prefix.
      version: remote && (old ? r.chance(0.5) : r.chance(0.05)) ? null : 1,
      avatar: r.chance(0.9) ? [this.fileName(avatarType[1]), avatarType[0]] : undefined,
      header: r.chance(0.6) ? [this.fileName(headerType[1]), headerType[0]] : undefined,
      suspended: r.chance(0.02),
      createdAt,
    });
  }

  // --- media ---

  media(options: {
    id: string;
    accountId: string;
    remote: boolean;
    version: number | null;
    kind: MediaKind;
    file: string | null;
    thumbnail?: { name: string; contentType: string; version: number | null } | undefined;
    createdAt: number;
    forceSize?: number;
  }): ObjectRef[] {
    const { kind, file } = options;
    const created = timestamp(options.createdAt);
    const remoteBase = `https://${this.random.pick(remoteDomains)}/system/media_attachments`;
    const row: DbRow = {
      id: options.id,
      status_id: null,
      account_id: options.accountId,
      file_file_name: file,
      file_content_type: file === null ? null : kind.contentType,
      file_file_size: null,
      file_updated_at: file === null ? null : created,
      remote_url: options.remote ? `${remoteBase}/${options.id}/${file ?? 'unknown.bin'}` : '',
      created_at: created,
      updated_at: created,
      type: kind.type,
      file_meta: file === null ? null : { original: { width: 1280, height: 720 }, small: { width: 640, height: 360 } },
      description: '',
      blurhash: null,
      processing: 2,
      file_storage_schema_version: file === null ? null : options.version,
      thumbnail_file_name: options.thumbnail?.name ?? null,
      thumbnail_content_type: options.thumbnail?.contentType ?? null,
      thumbnail_file_size: null,
      thumbnail_updated_at: options.thumbnail === undefined ? null : created,
      thumbnail_remote_url: options.thumbnail !== undefined && options.remote ? `${remoteBase}/${options.thumbnail.name}` : null,
      thumbnail_storage_schema_version: options.thumbnail?.version ?? null,
    };
    const refs = this.add('media_attachments', row, (ref) => this.mediaSize(ref, kind, options.forceSize));
    this.fillSizes(row, refs);
    return refs;
  }

  mediaSize(ref: ObjectRef, kind: MediaKind, forceSize: number | undefined): number {
    const r = this.random;
    const { imageMax, videoMax } = this.profile;
    if (ref.attachment === 'thumbnail') return r.logUniform(20 * KB, 200 * KB);
    if (ref.style !== 'original') return kind.type === 0 && kind.name !== 'static-gif' ? r.logUniform(15 * KB, 90 * KB) : r.logUniform(20 * KB, 150 * KB);
    if (forceSize !== undefined) return forceSize;
    switch (kind.name) {
      case 'jpeg':
      case 'png':
      case 'webp':
        return r.pareto(100 * KB, 1.3, imageMax);
      case 'heic':
        return r.logUniform(Math.min(500 * KB, imageMax / 2), Math.min(4 * MB, imageMax));
      case 'static-gif':
        return r.logUniform(50 * KB, Math.min(2 * MB, imageMax));
      case 'gifv':
        return r.pareto(200 * KB, 1.3, Math.min(15 * MB, videoMax));
      case 'video':
        return r.pareto(Math.min(400 * KB, videoMax / 4), 1.25, videoMax);
      case 'mov':
        return r.logUniform(Math.min(1 * MB, videoMax / 2), Math.min(20 * MB, videoMax));
      case 'audio':
        return r.logUniform(Math.min(512 * KB, videoMax / 2), Math.min(8 * MB, videoMax));
      case 'none':
        return 0;
    }
  }

  randomMedia(): void {
    const r = this.random;
    const kind = r.weighted(mediaKinds);
    const old = r.chance(0.08);
    const createdAt = old ? r.int(Date.UTC(2018, 0, 1), mediaSnowflakeStart - 1) : r.int(mediaSnowflakeStart, planEnd);
    const id = this.uniqueId('media_attachments', () => (old ? String(r.int(1, 30_000_000)) : snowflake(createdAt, r.int(0, 0xffff))));
    const remote = kind.name === 'none' ? true : r.chance(0.55);
    const accounts = remote ? this.remoteAccounts : this.localAccounts;
    // Media fetched before 3.1.4 (and never re-fetched) is at version 0; so are old local uploads.
    const version = old ? (r.chance(0.7) ? null : 1) : r.chance(0.03) ? null : 1;
    const isVideoLike = kind.name === 'video' || kind.name === 'mov' || kind.name === 'audio';
    let thumbnail: { name: string; contentType: string; version: number | null } | undefined;
    if (isVideoLike && r.chance(kind.name === 'audio' ? 0.5 : 0.3)) {
      const [contentType, extension] = r.pick([['image/jpeg', 'jpeg'], ['image/png', 'png']] as const);
      // Thumbnails of remote media are under cache/ only from v4.6 on (thumbnail_storage_schema_version).
      thumbnail = { name: this.fileName(extension), contentType, version: remote && !old && r.chance(0.5) ? 1 : null };
    }
    let forceSize: number | undefined;
    if (kind.name === 'video' && !this.largestVideoPlaced) {
      // One video at the profile's maximum, so every instance has its "100 MB+" object.
      forceSize = this.profile.videoMax;
      this.largestVideoPlaced = true;
    }
    this.media({
      id,
      accountId: accounts.length > 0 ? r.pick(accounts) : '12345',
      remote,
      version,
      kind,
      file: kind.name === 'none' ? null : this.fileName(kind.extension),
      thumbnail,
      createdAt,
      forceSize,
    });
  }

  // --- the smaller tables ---

  emoji(options: { id: string; shortcode: string; domain: string | null; name: string; contentType: string; version: number | null }): void {
    const created = timestamp(this.random.int(mastodonEpoch, planEnd));
    const row: DbRow = {
      id: options.id,
      shortcode: options.shortcode,
      domain: options.domain,
      image_file_name: options.name,
      image_content_type: options.contentType,
      image_file_size: null,
      image_updated_at: created,
      created_at: created,
      updated_at: created,
      disabled: false,
      uri: options.domain === null ? null : `https://${options.domain}/emojis/${options.id}`,
      image_remote_url: options.domain === null ? null : `https://${options.domain}/system/custom_emojis/${options.name}`,
      visible_in_picker: true,
      image_storage_schema_version: options.version,
    };
    const r = this.random;
    this.fillSizes(row, this.add('custom_emojis', row, (ref) => (ref.style === 'original' ? r.logUniform(2 * KB, 60 * KB) : r.logUniform(2 * KB, 30 * KB))));
  }

  randomEmoji(): void {
    const r = this.random;
    const id = this.nextSerial('custom_emojis');
    const remote = r.chance(0.7);
    const [contentType, extension] = r.weighted([
      [['image/png', 'png'], 60],
      [['image/gif', 'gif'], 30],
      [['image/webp', 'webp'], 10],
    ] as const);
    this.emoji({
      id,
      shortcode: `emoji${id}`,
      domain: remote ? r.pick(remoteDomains) : null,
      name: this.fileName(extension),
      contentType,
      version: r.chance(0.85) ? 1 : null,
    });
  }

  card(options: { id: string; name: string | null; contentType: string | null; version: number | null }): void {
    const created = timestamp(this.random.int(mastodonEpoch, planEnd));
    const row: DbRow = {
      id: options.id,
      url: `https://news${Number(options.id) % 97}.example/articles/${options.id}`,
      title: `Article ${options.id}`,
      image_file_name: options.name,
      image_content_type: options.contentType,
      image_file_size: null,
      image_updated_at: options.name === null ? null : created,
      created_at: created,
      updated_at: created,
      image_storage_schema_version: options.name === null ? null : options.version,
    };
    const r = this.random;
    this.fillSizes(row, this.add('preview_cards', row, () => r.logUniform(15 * KB, 200 * KB)));
  }

  randomCard(): void {
    const r = this.random;
    const id = this.nextSerial('preview_cards');
    const [contentType, extension] = r.weighted([
      [['image/jpeg', 'jpg'], 45],
      [['image/jpeg', 'jpeg'], 25],
      [['image/png', 'png'], 25],
      [['image/gif', 'gif'], 5],
    ] as const);
    const hasImage = r.chance(0.9);
    this.card({ id, name: hasImage ? this.fileName(extension) : null, contentType: hasImage ? contentType : null, version: r.chance(0.85) ? 1 : null });
  }

  siteUpload(id: string, variable: string, name: string, contentType: string): void {
    const created = timestamp(Date.UTC(2024, 0, 1));
    const row: DbRow = {
      id,
      var: variable,
      file_file_name: name,
      file_content_type: contentType,
      file_file_size: null,
      file_updated_at: created,
      meta: { original: { width: 1200, height: 630 } },
      created_at: created,
      updated_at: created,
    };
    const r = this.random;
    this.fillSizes(
      row,
      this.add('site_uploads', row, (ref) => {
        if (ref.style === 'original') return variable === 'favicon' ? r.logUniform(5 * KB, 50 * KB) : r.logUniform(50 * KB, 600 * KB);
        if (ref.style === '@1x') return r.logUniform(150 * KB, 400 * KB);
        if (ref.style === '@2x') return r.logUniform(400 * KB, 1200 * KB);
        const px = Number(ref.style);
        return Math.round(px * px * 0.25 + 400);
      }),
    );
  }

  backup(id: string, name: string): void {
    const created = timestamp(Date.UTC(2024, 0, 1) + Number(id) * 86_400_000);
    const row: DbRow = {
      id,
      user_id: id,
      dump_file_name: name,
      dump_content_type: 'application/zip',
      dump_updated_at: created,
      processed: true,
      created_at: created,
      updated_at: created,
      dump_file_size: null,
    };
    const r = this.random;
    const max = this.profile.backupMax;
    this.fillSizes(row, this.add('backups', row, () => r.logUniform(Math.round(max * 0.3), max)));
  }

  provider(id: string, domain: string): void {
    const created = timestamp(Date.UTC(2023, 0, 1));
    const row: DbRow = {
      id,
      domain,
      icon_file_name: this.fileName('png'),
      icon_content_type: 'image/png',
      icon_file_size: null,
      icon_updated_at: created,
      created_at: created,
      updated_at: created,
    };
    const r = this.random;
    this.fillSizes(row, this.add('preview_card_providers', row, () => r.logUniform(1 * KB, 20 * KB)));
  }
}

function totalKeys(planner: Planner): number {
  let sum = 0;
  for (const count of planner.keyCount.values()) sum += count;
  return sum;
}

export function planInstance(options: PlanOptions): InstancePlan {
  const planner = new Planner(options);
  const r = planner.random;
  const L = landmarks;

  // Reserve the landmarks' serial ids before any random row takes them.
  planner.usedIds.get('custom_emojis')!.add(L.remoteEmoji.id);
  planner.usedIds.get('preview_cards')!.add(L.previewCard.id);
  for (const name of Object.values(L).flatMap((l) => Object.values(l))) planner.usedNames.add(name);

  // Landmark accounts.
  planner.account({ id: L.localAccount.id, domain: null, username: 'alice', version: 1, avatar: [L.localAccount.avatar, 'image/gif'], header: [L.localAccount.header, 'image/jpeg'], createdAt: Date.UTC(2019, 3, 1) });
  planner.account({ id: L.remoteAccount.id, domain: L.remoteAccount.domain, username: 'bob', version: 1, avatar: [L.remoteAccount.avatar, 'image/png'], createdAt: snowflakeTime(L.remoteAccount.id) });
  planner.account({ id: L.oldRemoteAccount.id, domain: L.oldRemoteAccount.domain, username: 'carol', version: null, avatar: [L.oldRemoteAccount.avatar, 'image/webp'], createdAt: Date.UTC(2019, 5, 1) });

  // Fixed small tables.
  planner.siteUpload('1', 'thumbnail', planner.fileName('png'), 'image/png');
  planner.siteUpload(L.favicon.id, 'favicon', L.favicon.file, 'image/vnd.microsoft.icon');
  planner.siteUpload('3', 'app_icon', planner.fileName('png'), 'image/png');
  planner.siteUpload('4', 'mascot', planner.fileName('png'), 'image/png');
  planner.backup(L.backup.id, L.backup.dump);
  const backups = Math.max(1, Math.round(options.scale / 5000));
  for (let i = 2; i <= backups; i++) planner.backup(String(i), `archive-2024${String(i % 12 + 1).padStart(2, '0')}01120000-${r.hex(32)}.zip`);
  planner.provider('1', 'www.youtube.com');
  planner.provider('2', 'vimeo.com');
  planner.emoji({ id: L.remoteEmoji.id, shortcode: 'blobcat', domain: L.remoteEmoji.domain, name: L.remoteEmoji.image, contentType: 'image/gif', version: 1 });
  planner.card({ id: L.previewCard.id, name: L.previewCard.image, contentType: 'image/jpeg', version: 1 });

  // Random accounts first: media rows pick their owners among them.
  const fixed = totalKeys(planner);
  const rest = Math.max(0, options.scale - fixed - 12); // the landmark media add about 12
  const budget = (table: TableName, share: number): number => Math.round(rest * share);
  while (planner.keyCount.get('accounts')! < budget('accounts', 0.14) + 5) planner.randomAccount();
  while (planner.keyCount.get('custom_emojis')! < budget('custom_emojis', 0.04) + 2) planner.randomEmoji();
  while (planner.keyCount.get('preview_cards')! < budget('preview_cards', 0.07) + 1) planner.randomCard();

  // Landmark media.
  planner.media({ id: L.localVideo.id, accountId: L.localAccount.id, remote: false, version: 1, kind: { name: 'video', contentType: 'video/mp4', extension: 'mp4', type: 2 }, file: L.localVideo.file, thumbnail: { name: L.localVideo.thumbnail, contentType: 'image/jpeg', version: null }, createdAt: snowflakeTime(L.localVideo.id) });
  planner.media({ id: L.remoteImage.id, accountId: L.remoteAccount.id, remote: true, version: 1, kind: { name: 'jpeg', contentType: 'image/jpeg', extension: 'jpeg', type: 0 }, file: L.remoteImage.file, createdAt: snowflakeTime(L.remoteImage.id) });
  planner.media({ id: L.oldRemoteImage.id, accountId: L.oldRemoteAccount.id, remote: true, version: null, kind: { name: 'png', contentType: 'image/png', extension: 'png', type: 0 }, file: L.oldRemoteImage.file, createdAt: Date.UTC(2019, 6, 1) });
  planner.media({ id: L.remoteVideoWithCachedThumbnail.id, accountId: L.remoteAccount.id, remote: true, version: 1, kind: { name: 'video', contentType: 'video/mp4', extension: 'mp4', type: 2 }, file: L.remoteVideoWithCachedThumbnail.file, thumbnail: { name: L.remoteVideoWithCachedThumbnail.thumbnail, contentType: 'image/png', version: 1 }, createdAt: snowflakeTime(L.remoteVideoWithCachedThumbnail.id) });

  while (totalKeys(planner) < options.scale) planner.randomMedia();

  // --- anomalies: what real instances have and a copier must cope with ---
  const absent = new Set<string>();
  const misplaced: { key: string; storedAt: string }[] = [];
  if (options.anomalies) {
    // Legacy remote file names (kept before Sept 2017): spaces and capitals in the key.
    planner.account({ id: planner.uniqueId('accounts', () => String(r.int(1, 999_999))), domain: 'legacy.example', username: 'legacy', version: null, avatar: ['IMG 2041.JPG', 'image/jpeg'], createdAt: Date.UTC(2017, 3, 1) });
    // 3.1.4's storage-schema upgrade marked rows as cache/ without moving them.
    for (const account of planner.rows.accounts.filter((a) => a['domain'] !== null && a['avatar_storage_schema_version'] === 1 && a['avatar_file_name'] !== null && a['id'] !== L.remoteAccount.id).slice(0, 2)) {
      const ref = objectRefsForRow('accounts', account).find((x) => x.attachment === 'avatar' && x.style === 'original');
      if (ref?.alternateKey !== undefined) misplaced.push({ key: ref.key, storedAt: ref.alternateKey });
    }
    // An original lost from the storage, and a small Mastodon never made.
    const images = planner.rows.media_attachments.filter((m) => m['file_content_type'] === 'image/jpeg' && m['remote_url'] === '' && !Object.values(L).some((l) => l.id === m['id']));
    const lost = images[0];
    const noSmall = images[1];
    if (lost) for (const ref of objectRefsForRow('media_attachments', planner.derivationRow('media_attachments', lost))) if (ref.style === 'original') absent.add(ref.key);
    if (noSmall) for (const ref of objectRefsForRow('media_attachments', planner.derivationRow('media_attachments', noSmall))) if (ref.style === 'small') absent.add(ref.key);
    // The server thumbnail was uploaded before v4.0: no @1x/@2x.
    const thumbnailRow = planner.rows.site_uploads.find((s) => s['var'] === 'thumbnail');
    if (thumbnailRow) for (const ref of objectRefsForRow('site_uploads', thumbnailRow)) if (ref.style !== 'original') absent.add(ref.key);
  }

  // --- the rows in id order, and the keys the tool will list ---
  for (const table of tableNames) planner.rows[table].sort((a, b) => compareIds(String(a['id']), String(b['id'])));
  const referenced: ObjectRef[] = [];
  const rowsWithFiles = Object.fromEntries(tableNames.map((table) => [table, 0])) as Record<TableName, number>;
  for (const table of tableNames) {
    for (const row of planner.rows[table]) {
      const refs = objectRefsForRow(table, planner.derivationRow(table, row));
      if (refs.length > 0) rowsWithFiles[table] += 1;
      referenced.push(...refs);
    }
  }
  const referencedKeys = referenced.map((ref) => ref.key);
  const referencedSet = new Set(referencedKeys);

  const misplacedAt = new Map(misplaced.map((m) => [m.key, m.storedAt]));
  const objects: PlannedObject[] = [];
  for (const ref of referenced) {
    if (absent.has(ref.key)) continue;
    const storedAt = misplacedAt.get(ref.key);
    objects.push({
      key: storedAt ?? ref.key,
      size: planner.sizes.get(ref.key)!,
      contentType: contentTypeFor(ref.key),
      acl: ref.private ? 'private' : 'public-read',
      kind: storedAt === undefined ? 'referenced' : 'misplaced',
      referencedKey: ref.key,
      job: ref.job,
    });
  }

  const orphans = planOrphans(planner, referencedSet);
  objects.push(...orphans);
  return {
    options,
    profile: planner.profile,
    rows: planner.rows,
    rowsWithFiles,
    referencedKeys,
    objects,
    absentKeys: [...absent],
    orphanKeys: orphans.map((o) => o.key),
    misplaced,
  };
}

/**
 * Objects no row references, as real buckets collect them: media of deleted statuses,
 * replaced avatars, the pre-processing original of a converted video, cached cards and
 * emojis whose rows are gone, and a stray file at the root.
 */
function planOrphans(planner: Planner, referenced: ReadonlySet<string>): PlannedObject[] {
  const r = planner.random;
  const count = Math.max(8, Math.round(planner.options.scale * 0.02));
  const orphans: PlannedObject[] = [];
  const seen = new Set<string>();
  const push = (key: string, size: number): void => {
    if (referenced.has(key) || seen.has(key)) return;
    seen.add(key);
    orphans.push({ key, size, contentType: contentTypeFor(key), acl: 'public-read', kind: 'orphan' });
  };
  const partition = idPartition;
  const videos = planner.rows.media_attachments.filter((m) => m['file_content_type'] === 'video/mp4');
  const accounts = planner.rows.accounts.filter((a) => a['avatar_file_name'] !== null);

  push('media-usage-2023.csv', r.logUniform(1 * KB, 20 * KB));
  for (let i = 0; orphans.length < count; i++) {
    switch (i % 5) {
      case 0: {
        // A deleted status's image: original and small, the row gone.
        const id = snowflake(r.int(mediaSnowflakeStart, planEnd), r.int(0, 0xffff));
        const name = planner.fileName('jpg');
        push(`media_attachments/files/${partition(id)}/original/${name}`, r.pareto(100 * KB, 1.3, planner.profile.imageMax));
        push(`media_attachments/files/${partition(id)}/small/${name}`, r.logUniform(15 * KB, 90 * KB));
        break;
      }
      case 1: {
        // The avatar an account had before: same partition, old file name.
        const account = accounts.length > 0 ? r.pick(accounts) : undefined;
        if (account === undefined) break;
        const cache = account['domain'] !== null && account['avatar_storage_schema_version'] === 1 ? 'cache/' : '';
        push(`${cache}accounts/avatars/${partition(String(account['id']))}/original/${planner.fileName('png')}`, r.logUniform(30 * KB, 100 * KB));
        break;
      }
      case 2: {
        // The upload before transcoding (.mov → .mp4), left behind by reprocessing.
        const video = videos.length > 0 ? r.pick(videos) : undefined;
        if (video === undefined) break;
        const base = String(video['file_file_name']).replace(/\.[^.]+$/, '');
        const cache = video['remote_url'] !== '' && video['file_storage_schema_version'] === 1 ? 'cache/' : '';
        push(`${cache}media_attachments/files/${partition(String(video['id']))}/original/${base}.mov`, r.logUniform(100 * KB, Math.min(8 * MB, planner.profile.videoMax)));
        break;
      }
      case 3:
        // A preview card removed by `tootctl preview_cards remove`.
        push(`cache/preview_cards/images/${partition(String(r.int(1_000_000, 9_999_999)))}/original/${planner.fileName('jpg')}`, r.logUniform(15 * KB, 200 * KB));
        break;
      case 4: {
        // A remote emoji whose row was purged.
        const name = planner.fileName('png');
        const id = String(r.int(100_000, 999_999));
        push(`cache/custom_emojis/images/${partition(id)}/original/${name}`, r.logUniform(2 * KB, 60 * KB));
        push(`cache/custom_emojis/images/${partition(id)}/static/${name}`, r.logUniform(2 * KB, 30 * KB));
        break;
      }
    }
  }
  return orphans;
}

function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Counts and bytes of a plan, for reports. */
export interface PlanSummary {
  rows: Record<TableName, number>;
  referencedKeys: number;
  storedObjects: number;
  referencedBytes: number;
  orphans: number;
  orphanBytes: number;
  largestObject: number;
  sizePercentiles: { p50: number; p90: number; p99: number; max: number };
}

export function planSummary(plan: InstancePlan): PlanSummary {
  const referencedObjects = plan.objects.filter((o) => o.kind !== 'orphan');
  const sizes = referencedObjects.map((o) => o.size).sort((a, b) => a - b);
  const at = (q: number): number => sizes[Math.min(sizes.length - 1, Math.floor(q * sizes.length))] ?? 0;
  return {
    rows: Object.fromEntries(tableNames.map((t) => [t, plan.rows[t].length])) as Record<TableName, number>,
    referencedKeys: plan.referencedKeys.length,
    storedObjects: plan.objects.length,
    referencedBytes: referencedObjects.reduce((sum, o) => sum + o.size, 0),
    orphans: plan.orphanKeys.length,
    orphanBytes: plan.objects.filter((o) => o.kind === 'orphan').reduce((sum, o) => sum + o.size, 0),
    largestObject: sizes.at(-1) ?? 0,
    sizePercentiles: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sizes.at(-1) ?? 0 },
  };
}
