/**
 * A real S3 server for tests: s3rver in a child process, plus a few client
 * helpers to seed a source bucket and inspect a destination bucket.
 *
 * s3rver quirks these helpers already handle (see /work/shared/test-infrastructure-notes.md):
 * path-style addressing, `WHEN_REQUIRED` checksums (otherwise streamed PUTs are
 * stored with aws-chunked framing), and `--openssl-legacy-provider` (otherwise
 * any listing of more than 1,000 keys fails). Still unsupported: ACLs (accepted,
 * ignored), delimiter listings of nested keys, AbortMultipartUpload (405), and
 * server-side copies of keys containing '+'. Only the access key id is
 * checked; any secret is accepted.
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { s3rverCredentials, s3rverRegion, startLocalS3, type LocalS3 } from '../../tools/local-s3/local-s3.js';

export { s3rverCredentials, s3rverRegion };

export type S3Server = Pick<LocalS3, 'endpoint' | 'port' | 'directory' | 'stop'>;

/** An s3rver in its own process, in a temporary directory that stop() removes; a test that forgets stop() does not hang the run. */
export function startS3Server(options: { buckets?: string[] } = {}): Promise<S3Server> {
  return startLocalS3({ ...options, unref: true });
}

/** A client configured the way s3rver needs. Destroy it when done (`client.destroy()`). */
export function s3ClientFor(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string } = s3rverCredentials): S3Client {
  return new S3Client({
    endpoint,
    region: s3rverRegion,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function createTestBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function putTestObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer | string,
  metadata: { contentType?: string; cacheControl?: string } = {},
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: typeof body === 'string' ? Buffer.from(body) : body,
      ...(metadata.contentType !== undefined ? { ContentType: metadata.contentType } : {}),
      ...(metadata.cacheControl !== undefined ? { CacheControl: metadata.cacheControl } : {}),
    }),
  );
}

/** Seeds a large object from a stream (multipart, 8 MB parts), without holding it in memory. */
export async function uploadTestStream(client: S3Client, bucket: string, key: string, body: Readable, metadata: { contentType?: string } = {}): Promise<void> {
  await new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ...(metadata.contentType !== undefined ? { ContentType: metadata.contentType } : {}) },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  }).done();
}

export interface TestObject {
  body: Buffer;
  contentType?: string;
  cacheControl?: string;
  /** Without quotes; the body's MD5 for a single-part upload. */
  etag?: string;
}

/** The whole object in memory (test-sized objects only), or undefined when the key does not exist. */
export async function getTestObject(client: S3Client, bucket: string, key: string): Promise<TestObject | undefined> {
  let response;
  try {
    response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if ((error as { name?: unknown }).name === 'NoSuchKey') return undefined;
    throw error;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of response.Body as Readable) chunks.push(chunk as Buffer);
  return {
    body: Buffer.concat(chunks),
    ...(response.ContentType !== undefined ? { contentType: response.ContentType } : {}),
    ...(response.CacheControl !== undefined ? { cacheControl: response.CacheControl } : {}),
    ...(response.ETag !== undefined ? { etag: response.ETag.replace(/"/g, '') } : {}),
  };
}

/** Every key in the bucket (under `prefix`), sorted, across all listing pages. */
export async function listTestKeys(client: S3Client, bucket: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(prefix !== undefined ? { Prefix: prefix } : {}), ...(token !== undefined ? { ContinuationToken: token } : {}) }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}
