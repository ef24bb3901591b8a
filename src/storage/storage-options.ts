import type { ForeignOwner } from './fs/fs-check.js';
import type { RemovedPartial } from './fs/partial-files.js';
import type { S3Timeouts } from './s3/s3-client.js';

/** Where an S3-compatible bucket is and how to reach it. */
export interface S3StorageOptions {
  type: 's3';
  /** Custom endpoint (R2, Wasabi, B2, MinIO...); omitted for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style requests (`endpoint/bucket/key`), needed by MinIO and most non-AWS endpoints. */
  forcePathStyle: boolean;
  /** Mastodon's S3_KEY_PREFIX: prepended to every key, before `cache/`. */
  prefix?: string;
  /** Keep-alive sockets for this endpoint; sized to the transfer concurrency. */
  maxSockets: number;
  /** Objects larger than this go multipart. */
  multipartThreshold: number;
  /** Size of one multipart part; at most two parts per upload are held in memory. */
  partSize: number;
  /** Connection and idle timeouts; defaults suit most providers (10 s to connect, 120 s without a byte). */
  timeouts?: Partial<S3Timeouts>;
}

/** A directory laid out like Mastodon's `public/system`. */
export interface FsStorageOptions {
  type: 'fs';
  root: string;
  prefix?: string;
  /**
   * Set only for a destination being written: its listings then remove the temporary files of
   * interrupted writes that no live process owns (fs/partial-files.ts), and tell this of each.
   */
  removeAbandonedPartials?: (removed: RemovedPartial) => void;
  /**
   * Set only for a destination being written: its check tells this when the process is root's and
   * the directory another user's (Mastodon's), so that what it writes will not be that user's.
   */
  foreignOwner?: (owner: ForeignOwner) => void;
}

/** What a directory destination being written reports besides its objects. */
export type DirectoryWriteReports = Pick<FsStorageOptions, 'removeAbandonedPartials' | 'foreignOwner'>;

export type StorageOptions = S3StorageOptions | FsStorageOptions;
