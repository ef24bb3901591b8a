import type { Readable } from 'node:stream';

/** What a storage knows about one stored object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Quoted-free ETag where the back end has one (S3); a single-part upload's ETag is the body's MD5. */
  etag?: string;
  contentType?: string;
  cacheControl?: string;
}

/** An ETag that is the body's MD5 (a single-part upload's), so comparable across storages; a multipart one (`<md5>-<parts>`) is not. */
export const singlePartMd5 = /^[0-9a-f]{32}$/i;

export type Acl = 'public-read' | 'private';

/** What a run's writes carry besides the object: the ACLs it may send, and its storage class. */
export interface RunWrites {
  acls: readonly Acl[];
  storageClass?: string;
}

export interface WriteOptions {
  contentType?: string;
  cacheControl?: string;
  /** Omitted: send no ACL at all (R2, buckets with ACLs disabled). */
  acl?: Acl;
  storageClass?: string;
  /** The body's length when known; lets small objects go in one streamed request, and the write fails on any other length. */
  size?: number;
  /** Hears each chunk of the body as the back end takes it (progress). */
  onBytes?: (bytes: number) => void;
  /**
   * Hears of a multipart upload as soon as it exists, and again once it is
   * completed or aborted, so that a crash in between can be cleaned up later
   * with `abortUpload`. Back ends without multipart uploads never call it.
   */
  multipart?: MultipartObserver;
}

export interface MultipartObserver {
  started(uploadId: string): void;
  /** The upload was completed or aborted: nothing is left to clean up. */
  ended(uploadId: string): void;
}

export interface ReadResult {
  info: ReadInfo;
  body: Readable;
}

/**
 * What a read or a HEAD tells about the object. `size` is undefined when the answer did not
 * announce the body's length: some S3-compatible gateways and proxies answer a GET in chunked
 * transfer encoding, without Content-Length, and some strip Content-Length from HEAD answers.
 */
export type ReadInfo = Omit<ObjectInfo, 'size'> & { size: number | undefined };

/**
 * The contract every back end implements. Keys are Mastodon keys relative to
 * the storage's own root (a bucket plus optional key prefix, or a directory);
 * the back end adds its prefix itself. Back ends are passive: they never retry
 * on their own beyond a single request's transport, never decide what to copy,
 * and report "not there" as `undefined`, not as an error.
 */
export interface Storage {
  /** Human-readable location for messages, never containing a secret. */
  readonly description: string;
  readonly capabilities: StorageCapabilities;
  /**
   * Fails with a UserError when the storage cannot be used (no bucket, bad credentials, unreachable,
   * no directory). In `write` mode it also writes (and deletes) a probe object, carrying each of
   * `writes.acls` and the storage class the run will send, so a refused header fails here, once.
   */
  check(mode: 'read' | 'write', writes?: RunWrites): Promise<void>;
  head(key: string): Promise<ReadInfo | undefined>;
  read(key: string): Promise<ReadResult | undefined>;
  /** Writes atomically: a reader never sees a half-written object under `key`. */
  write(key: string, body: Readable, options: WriteOptions): Promise<void>;
  /**
   * Every object under `prefix` (relative to the storage root), in no particular
   * order unless `capabilities.sortedListing`; with `startAfter`, only keys
   * greater than it.
   */
  list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /**
   * Server-side copy from `source` into this storage, when `canCopyFrom(source, size)`.
   * Metadata is taken from `options`, not from the source object.
   */
  copyFrom?(source: Storage, sourceKey: string, key: string, options: WriteOptions): Promise<void>;
  /** Whether `copyFrom` can copy from `source` at all, and with `size`, an object of that many bytes. */
  canCopyFrom?(source: Storage, size?: number): boolean;
  /**
   * Aborts an unfinished multipart upload of `key` (one a crashed run left),
   * freeing its parts. Resolves when the upload is gone, including when it
   * already was.
   */
  abortUpload?(key: string, uploadId: string): Promise<void>;
  /** Releases connections; writes still in flight are abandoned (an unfinished multipart upload is aborted, a temporary file removed). */
  close(): Promise<void>;
}

export interface ListOptions {
  /** Only keys that sort after this one (S3's StartAfter): lets a listing skip a whole prefix. */
  startAfter?: string;
}

export interface StorageCapabilities {
  /** Stores Content-Type and Cache-Control with the object (S3 does, a directory does not). */
  keepsMetadata: boolean;
  /** Honors per-object ACLs. */
  acls: boolean;
  /** list() yields keys in ascending order (S3: by UTF-8 bytes), and honours `startAfter` without reading what it skips. */
  sortedListing?: boolean;
}

/** Transient failures a caller may retry: throttling, 5xx, resets, timeouts. */
export class TransientStorageError extends Error {
  override readonly name = 'TransientStorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
