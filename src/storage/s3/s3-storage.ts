import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { writtenBody } from '../written-body.js';
import { KeyPrefix } from '../key-prefix.js';
import { displayEndpoint, s3Service } from '../storage-location.js';
import type { S3StorageOptions } from '../storage-options.js';
import type { ListOptions, MultipartObserver, ObjectInfo, ReadInfo, ReadResult, RunWrites, Storage, StorageCapabilities, WriteOptions } from '../storage.js';
import { encodeCopySource } from './copy-source.js';
import { checkFailure, type S3Location } from './s3-check.js';
import { createS3Client, defaultS3Timeouts, type S3Timeouts } from './s3-client.js';
import { errorName, httpStatus } from '../../errors.js';
import { S3ObjectRequests } from './s3-object-requests.js';

/** Written and deleted again by `check('write')`; one fixed name, so a key that may not delete leaves at most one empty object. */
const writeProbeKey = '.mastodon-s3-sync-write-check';

export interface S3StorageTuning {
  timeouts?: Partial<S3Timeouts>;
}

type ObjectParams = Pick<PutObjectCommandInput, 'Bucket' | 'ContentType' | 'CacheControl' | 'ACL' | 'StorageClass'> & { Key: string };

/** A bucket (plus optional key prefix) on AWS S3 or any S3-compatible service. */
export class S3Storage implements Storage {
  readonly description: string;
  readonly capabilities: StorageCapabilities = { keepsMetadata: true, acls: true, sortedListing: true };
  readonly #options: S3StorageOptions;
  readonly #client: S3Client;
  readonly #objects: S3ObjectRequests;
  readonly #prefix: KeyPrefix;
  readonly #location: S3Location;
  /** Which service's buckets this one is among: asked of every object, by canCopyFrom. */
  readonly #service: string;
  /** Multipart uploads in flight, so that close() can abort them rather than leave their parts behind. */
  readonly #uploads = new Map<Upload, Promise<void>>();
  /** The write probe while it is out, so that close() lets its delete finish rather than leave it in the bucket. */
  #probe: Promise<void> = Promise.resolve();

  constructor(options: S3StorageOptions, tuning: S3StorageTuning = {}) {
    this.#options = options;
    this.#prefix = new KeyPrefix(options.prefix);
    const timeouts = { ...defaultS3Timeouts, ...options.timeouts, ...tuning.timeouts };
    this.#client = createS3Client(options, timeouts);
    this.#objects = new S3ObjectRequests(this.#client, options, timeouts);
    const where = options.endpoint === undefined ? `AWS ${options.region}` : displayEndpoint(options.endpoint);
    this.#location = { bucket: options.bucket, region: options.region, where };
    this.#service = s3Service(options.endpoint);
    const path = this.#prefix.value === '' ? options.bucket : `${options.bucket}/${this.#prefix.value.slice(0, -1)}`;
    this.description = `s3://${path} at ${where}`;
  }

  get bucket(): string {
    return this.#options.bucket;
  }

  /**
   * A one-key listing rather than HeadBucket: it needs the same permission
   * (s3:ListBucket), and a refusal comes with its code (NoSuchBucket,
   * InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied...) where a HEAD
   * answer has no body to tell them apart. In write mode the write probe goes
   * out at the same time; the listing's failure is the one reported.
   */
  async check(mode: 'read' | 'write', writes?: RunWrites): Promise<void> {
    const listing = this.#client.send(
      new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1, ...(this.#prefix.value !== '' ? { Prefix: this.#prefix.value } : {}) }),
    );
    const probe = mode === 'write' ? this.#probeWrite(writes) : Promise.resolve();
    this.#probe = probe.catch(() => undefined);
    try {
      await listing;
    } catch (error) {
      // A key that may write but not list must not leave the probe behind: its delete finishes first.
      await probe.catch(() => undefined);
      throw checkFailure(error, this.#location, 'reach');
    }
    await probe;
  }

  /**
   * A listing only proves the key may list; a read-only key, or a bucket refusing the run's ACL or
   * storage class header (R2, S3 with ACLs disabled), would otherwise fail on every object of the run.
   */
  async #probeWrite(writes: RunWrites | undefined): Promise<void> {
    const target = { Bucket: this.bucket, Key: this.#prefix.add(writeProbeKey) };
    const acls = writes === undefined || writes.acls.length === 0 ? [undefined] : writes.acls;
    try {
      for (const acl of acls) {
        const params = this.#objectParams(writeProbeKey, { acl, storageClass: writes?.storageClass });
        await this.#client.send(new PutObjectCommand({ ...params, Body: Buffer.alloc(0), ContentLength: 0 }));
      }
    } catch (error) {
      // A probe written before the refusal must not stay behind.
      if (acls.length > 1) await this.#client.send(new DeleteObjectCommand(target)).catch(() => undefined);
      throw checkFailure(error, this.#location, 'write to');
    }
    await this.#client.send(new DeleteObjectCommand(target)).catch(() => undefined);
  }

  async head(key: string): Promise<ReadInfo | undefined> {
    const headers = await this.#objects.head(this.#prefix.add(key));
    return headers === undefined ? undefined : objectInfo(key, headers);
  }

  async read(key: string): Promise<ReadResult | undefined> {
    const response = await this.#objects.get(this.#prefix.add(key));
    if (response === undefined) return undefined;
    // A chunked answer (some gateways and proxies) announces no length: the write then takes the body as it comes.
    return { info: objectInfo(key, response.headers), body: response };
  }

  async write(key: string, body: Readable, options: WriteOptions): Promise<void> {
    const singlePutSize = options.size !== undefined && options.size <= this.#options.multipartThreshold ? options.size : undefined;
    // A single PUT checks the length itself, as it hands the body over; multipart parts come from a checked stream.
    const sent = singlePutSize !== undefined ? body : writtenBody(body, options.size, options.onBytes);
    try {
      if (singlePutSize !== undefined) {
        // Streamed straight through: nothing is buffered, and Content-Length lets S3 accept it unchunked.
        await this.#objects.put(this.#prefix.add(key), sent, singlePutSize, objectHeaders(options), options.onBytes);
      } else {
        await this.#uploadMultipart(this.#objectParams(key, options), sent, options.size, options.multipart);
      }
    } catch (error) {
      sent.destroy();
      throw error;
    }
  }

  /**
   * Multipart with at most two parts in flight, so memory stays near 2 × partSize
   * whatever the object's size. Parts of a failed upload are aborted here rather
   * than by lib-storage, so that the caller sees the error that broke the upload
   * and not a failure of the abort itself. `observer` hears the upload id as soon
   * as S3 assigns it, and again once nothing is left to clean up.
   */
  async #uploadMultipart(params: ObjectParams, body: Readable, size: number | undefined, observer: MultipartObserver | undefined): Promise<void> {
    const upload = new Upload({
      client: observer === undefined ? this.#client : observingClient(this.#client, observer),
      params: { ...params, Body: body, ...(size !== undefined ? { ContentLength: size } : {}) },
      partSize: partSizeFor(size, this.#options.partSize),
      queueSize: 2,
      leavePartsOnError: true,
    });
    const run = (async () => {
      try {
        await upload.done();
        if (upload.uploadId !== undefined) observer?.ended(upload.uploadId);
      } catch (error) {
        if (upload.uploadId !== undefined) {
          // Best effort: an upload that cannot be aborted (server down) is at least never completed, so never visible;
          // the observer keeps its id for a later abortUpload().
          const aborted = await this.abortUpload(params.Key, upload.uploadId, { prefixed: true }).then(
            () => true,
            () => false,
          );
          if (aborted) observer?.ended(upload.uploadId);
        }
        throw error;
      }
    })();
    this.#uploads.set(upload, run.catch(() => undefined));
    try {
      await run;
    } finally {
      this.#uploads.delete(upload);
    }
  }

  async abortUpload(key: string, uploadId: string, options: { prefixed?: boolean } = {}): Promise<void> {
    const fullKey = options.prefixed === true ? key : this.#prefix.add(key);
    try {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: fullKey, UploadId: uploadId }));
    } catch (error) {
      // Already completed, aborted or expired: nothing left to free.
      if (errorName(error) === 'NoSuchUpload' || httpStatus(error) === 404) return;
      throw error;
    }
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const fullPrefix = this.#prefix.add(prefix);
    const startAfter = options.startAfter === undefined ? undefined : this.#prefix.add(options.startAfter);
    let continuationToken: string | undefined;
    do {
      // Flat listing, no delimiter: one request per 1,000 keys however deep the tree is.
      const page = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          ...(fullPrefix !== '' ? { Prefix: fullPrefix } : {}),
          ...(continuationToken !== undefined ? { ContinuationToken: continuationToken } : startAfter !== undefined ? { StartAfter: startAfter } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        // Keys ending in '/' are "folder" placeholders made by consoles, not media.
        if (object.Key === undefined || object.Key.endsWith('/')) continue;
        const key = this.#prefix.strip(object.Key);
        if (key === undefined) continue;
        yield { key, size: object.Size ?? 0, ...etagField(object.ETag) };
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  canCopyFrom(source: Storage, size?: number): boolean {
    if (!(source instanceof S3Storage) || (size !== undefined && size > maxCopyObjectSize)) return false;
    const mine = this.#options;
    const theirs = source.#options;
    return (
      this.#service === source.#service &&
      mine.region === theirs.region &&
      mine.accessKeyId === theirs.accessKeyId &&
      mine.secretAccessKey === theirs.secretAccessKey
    );
  }

  /** Server-side copy (objects up to 5 GiB, S3's CopyObject limit); metadata comes from `options`, never from the source. */
  async copyFrom(source: Storage, sourceKey: string, key: string, options: WriteOptions): Promise<void> {
    if (!(source instanceof S3Storage) || !this.canCopyFrom(source, options.size)) {
      throw new Error(`cannot copy server-side from ${source.description} to ${this.description}`);
    }
    await this.#client.send(
      new CopyObjectCommand({
        ...this.#objectParams(key, options),
        CopySource: encodeCopySource(source.bucket, source.#prefix.add(sourceKey)),
        MetadataDirective: 'REPLACE',
      }),
    );
  }

  async close(): Promise<void> {
    // Abandoned uploads are aborted (their parts freed), and a write probe still out (the command ended
    // on another error meanwhile) is deleted, before the connections go.
    for (const upload of this.#uploads.keys()) await upload.abort().catch(() => undefined);
    const settled = Promise.all([this.#probe, ...this.#uploads.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, closeGraceMs)))]);
    clearTimeout(timer);
    this.#client.destroy();
    this.#objects.destroy();
  }

  #objectParams(key: string, options: WriteOptions): ObjectParams {
    return {
      Bucket: this.bucket,
      Key: this.#prefix.add(key),
      ...(options.contentType !== undefined ? { ContentType: options.contentType } : {}),
      ...(options.cacheControl !== undefined ? { CacheControl: options.cacheControl } : {}),
      // No ACL header at all unless asked: R2 and buckets with ACLs disabled reject any.
      ...(options.acl !== undefined ? { ACL: options.acl } : {}),
      ...(options.storageClass !== undefined ? { StorageClass: options.storageClass as StorageClass } : {}),
    };
  }
}

/** The largest object one CopyObject copies (5 GiB); S3 refuses larger ones with 400 InvalidRequest. */
const maxCopyObjectSize = 5 * 1024 ** 3;

/** S3 takes at most 10,000 parts: a larger object gets larger parts than configured. */
const maxParts = 10_000;

export function partSizeFor(size: number | undefined, configured: number): number {
  return size === undefined ? configured : Math.max(configured, Math.ceil(size / maxParts));
}

/** How long close() waits for abandoned multipart uploads to be aborted. */
const closeGraceMs = 5000;

/** The client, reporting the UploadId of each CreateMultipartUpload it sends. */
function observingClient(client: S3Client, observer: MultipartObserver): S3Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return async (...args: Parameters<S3Client['send']>) => {
        const output: unknown = await target.send(...args);
        const uploadId = (output as { UploadId?: unknown } | undefined)?.UploadId;
        if (args[0] instanceof CreateMultipartUploadCommand && typeof uploadId === 'string') observer.started(uploadId);
        return output;
      };
    },
  });
}

/** What an answer's headers tell; no size when they announce no Content-Length (a chunked GET, a HEAD a gateway stripped), never 0. */
function objectInfo(key: string, headers: IncomingHttpHeaders): ReadInfo {
  const length = headers['content-length'];
  return {
    key,
    size: length === undefined ? undefined : Number(length),
    ...etagField(headers.etag),
    ...(headers['content-type'] !== undefined ? { contentType: headers['content-type'] } : {}),
    ...(headers['cache-control'] !== undefined ? { cacheControl: headers['cache-control'] } : {}),
  };
}

/** What a single PUT sends besides the body: the same metadata #objectParams gives the SDK's commands. */
function objectHeaders(options: WriteOptions): Record<string, string> {
  return {
    ...(options.contentType !== undefined ? { 'content-type': options.contentType } : {}),
    ...(options.cacheControl !== undefined ? { 'cache-control': options.cacheControl } : {}),
    ...(options.acl !== undefined ? { 'x-amz-acl': options.acl } : {}),
    ...(options.storageClass !== undefined ? { 'x-amz-storage-class': options.storageClass } : {}),
  };
}

function etagField(etag: string | undefined): { etag?: string } {
  return etag === undefined ? {} : { etag: etag.replace(/^"|"$/g, '') };
}
