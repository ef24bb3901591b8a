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
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const launcher = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

/** s3rver's one built-in account. */
export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const s3rverRegion = 'us-east-1';

export interface S3Server {
  /** e.g. `http://127.0.0.1:40123` */
  endpoint: string;
  port: number;
  /** Where s3rver keeps the buckets; removed by stop(). */
  directory: string;
  stop(): Promise<void>;
}

export async function startS3Server(options: { buckets?: string[] } = {}): Promise<S3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), 'mss-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', launcher, JSON.stringify({ directory, buckets: options.buckets ?? [] })], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const line = output.split('\n')[0];
        if (output.includes('\n') && line !== undefined) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`s3rver exited before listening (code ${code}, signal ${signal})`)));
    });
  } catch (error) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  // A test that forgets stop() must not hang the test run: the child exits when our stdin pipe closes.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
      }
      await rm(directory, { recursive: true, force: true });
    })());
  return { endpoint: `http://127.0.0.1:${port}`, port, directory, stop };
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
