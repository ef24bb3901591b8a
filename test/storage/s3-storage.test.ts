import type { S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { BodySizeMismatchError, describeStorageError, isTransientError } from '../../src/storage/errors.js';
import { FsStorage } from '../../src/storage/fs/fs-storage.js';
import { encodeCopySource } from '../../src/storage/s3/copy-source.js';
import { partSizeFor, S3Storage } from '../../src/storage/s3/s3-storage.js';
import type { S3StorageOptions } from '../../src/storage/storage-options.js';
import { isCheckListing, startS3Proxy } from '../helpers/s3-proxy.js';
import { createTestBucket, getTestObject, listTestKeys, putTestObject, s3ClientFor, s3rverCredentials, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { s3rverStorageOptions } from '../../tools/local-s3/local-s3.js';
import { runStorageContract } from './storage-contract.js';
import { failingStream, generatedStream, hashStream, listKeys, md5, readBytes, writeBytes } from './storage-helpers.js';

const mebibyte = 1024 * 1024;
let server: S3Server;
let admin: S3Client;
let bucketCount = 0;
const openStorages: S3Storage[] = [];

/** A new, empty bucket on the shared s3rver. */
async function newBucket(): Promise<string> {
  const bucket = `test-bucket-${++bucketCount}`;
  await createTestBucket(admin, bucket);
  return bucket;
}

function storageFor(bucket: string, overrides: Partial<S3StorageOptions> = {}): S3Storage {
  const storage = new S3Storage(s3rverStorageOptions(server.endpoint, bucket, overrides));
  openStorages.push(storage);
  return storage;
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

before(async () => {
  server = await startS3Server();
  admin = s3ClientFor(server.endpoint);
});

after(async () => {
  await Promise.all(openStorages.map((storage) => storage.close()));
  admin.destroy();
  await server.stop();
});

runStorageContract('S3Storage on s3rver', async () => {
  const bucket = await newBucket();
  const made: S3Storage[] = [];
  const make = (prefix?: string): S3Storage => {
    const storage = new S3Storage(s3rverStorageOptions(server.endpoint, bucket, prefix === undefined ? {} : { prefix }));
    made.push(storage);
    return storage;
  };
  return {
    storage: make(),
    withPrefix: make,
    cleanup: async () => {
      await Promise.all(made.map((storage) => storage.close()));
    },
  };
});

describe('S3Storage', () => {
  test('description names bucket, prefix and endpoint, and never the secret', async () => {
    const bucket = await newBucket();
    const storage = storageFor(bucket, { prefix: '/mastodon', secretAccessKey: 'very-secret-value' });
    assert.equal(storage.description, `s3://${bucket}/mastodon at ${server.endpoint}`);
    assert.equal(storageFor(bucket).description, `s3://${bucket} at ${server.endpoint}`);
    assert.equal(new S3Storage({ ...s3rverStorageOptions(server.endpoint, bucket), endpoint: undefined, region: 'eu-west-1' }).description, `s3://${bucket} at AWS eu-west-1`);
  });

  test('a 30 MB multipart write keeps bytes, Content-Type and Cache-Control', async (t) => {
    const bucket = await newBucket();
    const storage = storageFor(bucket);
    const data = randomBytes(30 * mebibyte);
    for (const announceSize of [true, false]) {
      const key = `media_attachments/files/big-${announceSize ? 'sized' : 'unsized'}.mp4`;
      const started = performance.now();
      await writeBytes(storage, key, data, { contentType: 'video/mp4', cacheControl: 'public, max-age=31536000', announceSize });
      t.diagnostic(`30 MB multipart write (${announceSize ? 'size known' : 'size unknown'}, 5 MB parts, 2 in flight): ${Math.round(performance.now() - started)} ms`);
      const stored = await getTestObject(admin, bucket, key);
      assert.equal(stored?.body.length, data.length);
      assert.equal(md5(stored.body), md5(data));
      assert.equal(stored.contentType, 'video/mp4');
      assert.equal(stored.cacheControl, 'public, max-age=31536000');
      // A multipart ETag is not the body's MD5 (real S3 appends "-<parts>"); s3rver makes its own.
      assert.equal((await storage.head(key))?.size, data.length);
    }
  });

  test('a multipart write whose source fails after two parts leaves no object and surfaces the source error', async () => {
    const bucket = await newBucket();
    const storage = storageFor(bucket);
    for (const size of [20 * mebibyte, undefined]) {
      const dropped = new Error(`source dropped (size ${size})`);
      // s3rver answers AbortMultipartUpload with 405: the write must still report the source's error, not that one.
      await assert.rejects(storage.write('big/broken.bin', failingStream(12 * mebibyte, dropped), { size }), (error) => error === dropped);
    }
    await assert.rejects(storage.write('big/short.bin', Readable.from([randomBytes(12 * mebibyte)]), { size: 20 * mebibyte }), BodySizeMismatchError);
    assert.deepEqual(await listTestKeys(admin, bucket), []);
  });

  test('a single streamed PUT whose source fails is aborted at once and reports the source error', { timeout: 15_000 }, async () => {
    const bucket = await newBucket();
    const storage = storageFor(bucket);
    const dropped = new Error('source dropped');
    const started = performance.now();
    // Without the abort the request would wait for the missing bytes until the 120 s idle timeout.
    await assert.rejects(storage.write('single/broken.bin', failingStream(1 * mebibyte, dropped), { size: 4 * mebibyte }), (error) => error === dropped);
    assert.ok(performance.now() - started < 5000, `took ${Math.round(performance.now() - started)} ms`);
    // Whether a half-sent PUT may leave bytes behind is up to the server: real S3 discards it,
    // s3rver writes the object file in place as bytes arrive. So nothing is asserted about the bucket.
  });

  test('every request is signed as S3 verifies it, keys with spaces, unicode and reserved characters included', async () => {
    const bucket = await newBucket();
    const proxy = await startS3Proxy(server.endpoint, { verifySignatures: { secretAccessKey: s3rverCredentials.secretAccessKey } });
    try {
      const storage = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket, { prefix: 'pre fix' }));
      const keys = ['a/IMG 2041 (1).JPG', 'a/café-日本.png', "a/!'()*+,;=@$&[]~.gif", 'a/100%.png', 'a/plus+and%20literal.webp'];
      await storage.check('write');
      for (const [index, key] of keys.entries()) {
        // The last one goes multipart (over the fixture's 8 MiB threshold): the SDK's requests are checked too.
        const data = randomBytes(index === keys.length - 1 ? 9 * mebibyte : 1000 + index);
        await writeBytes(storage, key, data, { contentType: 'image/png', announceSize: true });
        assert.equal(md5((await getTestObject(admin, bucket, `pre fix/${key}`))?.body ?? Buffer.alloc(0)), md5(data), key);
        assert.equal((await storage.head(key))?.size, data.length, key);
        assert.equal(md5((await readBytes(storage, key)) ?? Buffer.alloc(0)), md5(data), key);
      }
      assert.deepEqual((await listKeys(storage)).sort(), [...keys].sort());
      await storage.close();

      const wrongSecret = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket, { prefix: 'pre fix', secretAccessKey: 'not-the-secret' }));
      await assert.rejects(wrongSecret.read(keys[0]!), (error) => describeStorageError(error) === '403 SignatureDoesNotMatch' && !isTransientError(error));
      await assert.rejects(wrongSecret.head(keys[0]!), (error) => describeStorageError(error) === '403 Forbidden');
      await assert.rejects(wrongSecret.write('new.png', Readable.from([randomBytes(3 * mebibyte)]), { size: 3 * mebibyte }), (error) => describeStorageError(error) === '403 SignatureDoesNotMatch');
      await assert.rejects(wrongSecret.check('read'), (error) => error instanceof UserError && error.code === 'storage.auth');
      await wrongSecret.close();
      assert.equal((await listTestKeys(admin, bucket)).length, keys.length);
    } finally {
      await proxy.close();
    }
  });

  test('the prefix forms keys as Mastodon forms them from S3_KEY_PREFIX: as written, then /, one leading / dropped', async () => {
    const bucket = await newBucket();
    const proxy = await startS3Proxy(server.endpoint, { verifySignatures: { secretAccessKey: s3rverCredentials.secretAccessKey } });
    try {
      for (const [prefix, expected] of [['media', 'media/'], ['/media', 'media/'], ['', '']] as const) {
        const storage = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket, { prefix }));
        await writeBytes(storage, 'accounts/avatars/a.png', Buffer.from('avatar'), { contentType: 'image/png', announceSize: true });
        await storage.close();
        assert.equal(proxy.requests.at(-1)?.path, `/${bucket}/${expected}accounts/avatars/a.png`, `prefix ${JSON.stringify(prefix)}`);
        assert.equal((await getTestObject(admin, bucket, `${expected}accounts/avatars/a.png`))?.body.toString(), 'avatar');
      }
      // 'media/' gives Mastodon's 'media//accounts/…', a key of its own on S3. s3rver's router knows no empty path
      // segment and answers 404, so this checks what reached the wire and that its signature was right (no 403).
      const doubled = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket, { prefix: 'media/' }));
      await assert.rejects(writeBytes(doubled, 'accounts/avatars/a.png', Buffer.from('avatar'), { announceSize: true }), (error) => describeStorageError(error).startsWith('404'));
      await doubled.close();
      assert.equal(proxy.requests.at(-1)?.path, `/${bucket}/media//accounts/avatars/a.png`);
    } finally {
      await proxy.close();
    }
  });

  test('a server that ignores Expect: 100-continue still gets the body of a large PUT, after a short wait', async () => {
    const bucket = await newBucket();
    const proxy = await startS3Proxy(server.endpoint, { ignoreExpectContinue: true });
    try {
      const storage = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket));
      const data = randomBytes(3 * mebibyte);
      const started = performance.now();
      await writeBytes(storage, 'large.bin', data, { announceSize: true });
      const waited = performance.now() - started;
      await storage.close();
      assert.equal(proxy.requests.find((request) => request.method === 'PUT')?.headers.expect, '100-continue');
      assert.ok(waited >= 900, `sent after ${Math.round(waited)} ms: the client waited for a 100 that never came`);
      assert.equal(md5((await getTestObject(admin, bucket, 'large.bin'))?.body ?? Buffer.alloc(0)), md5(data));
    } finally {
      await proxy.close();
    }
  });

  test('a 100 Continue that comes after the client stopped waiting for it does not send the body a second time', async () => {
    const bucket = await newBucket();
    const proxy = await startS3Proxy(server.endpoint, { continueAfterMs: 1500 });
    try {
      const storage = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket));
      const data = randomBytes(3 * mebibyte);
      let heard = 0;
      // A source slower than the wait: the body is still flowing when the 100 arrives.
      const slowly = async function* (): AsyncGenerator<Buffer> {
        for (let offset = 0; offset < data.length; offset += 64 * 1024) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          yield data.subarray(offset, offset + 64 * 1024);
        }
      };
      await storage.write('late.bin', Readable.from(slowly()), { size: data.length, onBytes: (bytes) => (heard += bytes) });
      await storage.close();
      assert.equal(heard, data.length);
      assert.equal(md5((await getTestObject(admin, bucket, 'late.bin'))?.body ?? Buffer.alloc(0)), md5(data));
    } finally {
      await proxy.close();
    }
  });

  test('refused object requests carry the S3 error name and status, and a missing bucket is not a missing object', async () => {
    const bucket = await newBucket();
    await putTestObject(admin, bucket, 'there.png', Buffer.from('x'));
    const unknownKey = storageFor(bucket, { accessKeyId: 'NOBODY' });
    await assert.rejects(unknownKey.read('there.png'), (error) => describeStorageError(error) === '403 InvalidAccessKeyId' && !isTransientError(error));
    await assert.rejects(unknownKey.head('there.png'), (error) => describeStorageError(error) === '403 Forbidden');
    await assert.rejects(unknownKey.write('new.png', Readable.from([Buffer.from('abc')]), { size: 3 }), (error) => describeStorageError(error) === '403 InvalidAccessKeyId');
    const noBucket = storageFor('no-such-bucket');
    await assert.rejects(noBucket.read('there.png'), (error) => describeStorageError(error) === '404 NoSuchBucket');
    assert.deepEqual(await listTestKeys(admin, bucket), ['there.png']);
  });

  test('objects beyond 10,000 configured parts (S3\'s limit) get larger parts, others the configured size', () => {
    const configured = 5 * mebibyte;
    assert.equal(partSizeFor(undefined, configured), configured);
    assert.equal(partSizeFor(1024 * mebibyte, configured), configured);
    assert.equal(partSizeFor(10_000 * configured, configured), configured);
    for (const size of [10_000 * configured + 1, 100 * 1024 * mebibyte, 5 * 1024 * 1024 * mebibyte]) {
      const part = partSizeFor(size, configured);
      assert.ok(part > configured && Math.ceil(size / part) <= 10_000, `${size} bytes in parts of ${part}`);
    }
  });

  test('list skips "folder" placeholder keys ending in /', async () => {
    const bucket = await newBucket();
    await putTestObject(admin, bucket, 'media_attachments/', '');
    await putTestObject(admin, bucket, 'media_attachments/a.png', 'png');
    assert.deepEqual(await listKeys(storageFor(bucket)), ['media_attachments/a.png']);
  });

  describe('server-side copy', () => {
    test('copyFrom copies between buckets on the same server with the new Content-Type and Cache-Control', async () => {
      const sourceBucket = await newBucket();
      const destinationBucket = await newBucket();
      const keys = ['media_attachments/files/110/original/abc.png', 'accounts/avatars/legacy name (2).png', 'emojis/ünï 写真&=,;@$%.png'];
      for (const key of keys) await putTestObject(admin, sourceBucket, `old/${key}`, `bytes of ${key}`, { contentType: 'application/octet-stream', cacheControl: 'max-age=60' });
      const source = storageFor(sourceBucket, { prefix: 'old' });
      const destination = storageFor(destinationBucket, { prefix: 'new' });
      assert.equal(destination.canCopyFrom(source), true);
      for (const key of keys) {
        await destination.copyFrom(source, key, key, { contentType: 'image/png', cacheControl: 'public, max-age=315576000, immutable', acl: 'public-read', storageClass: 'STANDARD' });
      }
      for (const key of keys) {
        const copied = await getTestObject(admin, destinationBucket, `new/${key}`);
        assert.equal(copied?.body.toString(), `bytes of ${key}`, key);
        assert.equal(copied.contentType, 'image/png');
        assert.equal(copied.cacheControl, 'public, max-age=315576000, immutable');
      }
      // The source is untouched.
      assert.equal((await getTestObject(admin, sourceBucket, `old/${keys[0]}`))?.contentType, 'application/octet-stream');
    });

    test('copyFrom of a missing source key fails (the caller heads first)', async () => {
      const source = storageFor(await newBucket());
      const destination = storageFor(await newBucket());
      await assert.rejects(destination.copyFrom(source, 'absent.png', 'absent.png', {}), { name: 'NoSuchKey' });
    });

    test('canCopyFrom is true only for the same service, region and credentials', async () => {
      const other = await startS3Server({ buckets: ['elsewhere'] });
      try {
        const bucket = await newBucket();
        const destination = storageFor(bucket);
        const fsRoot = await mkdtemp(path.join(tmpdir(), 'mss-copy-'));
        const cases: Array<[string, Parameters<S3Storage['canCopyFrom']>[0], boolean]> = [
          ['another bucket, same server', storageFor('another-bucket'), true],
          ['same server, endpoint written with a trailing slash', storageFor(bucket, { endpoint: `${server.endpoint}/` }), true],
          ['same server, reached as localhost', storageFor(bucket, { endpoint: server.endpoint.replace('127.0.0.1', 'localhost') }), true],
          ['another s3rver', new S3Storage(s3rverStorageOptions(other.endpoint, 'elsewhere')), false],
          ['another access key', storageFor(bucket, { accessKeyId: 'OTHER' }), false],
          ['another secret', storageFor(bucket, { secretAccessKey: 'other' }), false],
          ['another region', storageFor(bucket, { region: 'eu-west-1' }), false],
          ['a directory', new FsStorage({ type: 'fs', root: fsRoot }), false],
        ];
        for (const [name, source, expected] of cases) assert.equal(destination.canCopyFrom(source), expected, name);
        const otherServer = cases.find(([name]) => name === 'another s3rver')![1];
        await assert.rejects(destination.copyFrom(otherServer, 'a', 'a', {}), /cannot copy server-side/);
        await rm(fsRoot, { recursive: true });
      } finally {
        await other.stop();
      }
    });

    test('canCopyFrom with a size refuses objects beyond 5 GiB, the most one CopyObject takes', () => {
      const bucket = 'any-bucket';
      const destination = storageFor(bucket);
      const source = storageFor('another-bucket');
      const gibibyte = 1024 * mebibyte;
      assert.equal(destination.canCopyFrom(source, 5 * gibibyte), true);
      assert.equal(destination.canCopyFrom(source, 5 * gibibyte + 1), false);
      assert.equal(destination.canCopyFrom(source), true);
    });

    test('CopySource is URL-encoded the way both real S3 and s3rver decode it', () => {
      assert.equal(encodeCopySource('bucket', 'media_attachments/files/1/original/a.png'), 'bucket/media_attachments/files/1/original/a.png');
      assert.equal(encodeCopySource('bucket', 'a b/ü.png'), 'bucket/a%20b/%C3%BC.png');
      assert.equal(encodeCopySource('bucket', '100%.png'), 'bucket/100%25.png');
      // Real S3 would read '+' as a space and '?' as the start of versionId.
      assert.equal(encodeCopySource('bucket', 'c++ notes?#.txt'), 'bucket/c%2B%2B%20notes%3F%23.txt');
    });
  });

  describe('check', () => {
    const expectUserError = (code: string, ...mustMention: string[]) => (error: unknown) => {
      assert.ok(error instanceof UserError, String(error));
      assert.equal(error.code, code);
      for (const text of mustMention) assert.ok(error.message.includes(text), `"${error.message}" should mention ${text}`);
      assert.ok(!error.message.includes('S3RVER-SECRET'), 'no secret in the message');
      assert.ok(!error.message.includes('\n'), 'one line');
      return true;
    };

    test('a missing bucket is storage.no-bucket, naming the bucket and endpoint', async () => {
      const storage = storageFor('no-such-bucket', { secretAccessKey: 'S3RVER-SECRET' });
      for (const mode of ['read', 'write'] as const) {
        await assert.rejects(storage.check(mode), expectUserError('storage.no-bucket', '"no-such-bucket"', server.endpoint, 'create it'));
      }
    });

    test('an unknown access key is storage.auth', async () => {
      const storage = storageFor(await newBucket(), { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'S3RVER-SECRET' });
      for (const mode of ['read', 'write'] as const) {
        await assert.rejects(storage.check(mode), expectUserError('storage.auth', server.endpoint, 'access_key_id'));
      }
    });

    test('an endpoint nothing listens on, or a host that does not resolve, is storage.unreachable', async () => {
      const port = await closedPort();
      for (const endpoint of [`http://127.0.0.1:${port}`, 'http://no-such-host.invalid:9000']) {
        const storage = storageFor('media', { endpoint, secretAccessKey: 'S3RVER-SECRET' });
        await assert.rejects(storage.check('read'), expectUserError('storage.unreachable', endpoint, 'endpoint'));
      }
    });

    test('a key that may write but not list fails the check, and its write probe is deleted before the check answers', async () => {
      const bucket = await newBucket();
      const proxy = await startS3Proxy(server.endpoint);
      let deleteArrived: () => void = () => undefined;
      const probeWritten = new Promise<void>((resolve) => (deleteArrived = resolve));
      let listingRefused: () => void = () => undefined;
      const refused = new Promise<void>((resolve) => (listingRefused = resolve));
      proxy.setFaults({
        choose(request) {
          // The listing is refused only once the probe is written, and the probe's delete goes on only after that
          // refusal: a check that gave up at once would leave the probe behind.
          if (isCheckListing(request)) return { until: probeWritten.then(() => listingRefused()), then: 'forbidden' };
          if (request.method === 'DELETE') {
            deleteArrived();
            return { until: refused.then(() => new Promise((resolve) => setTimeout(resolve, 100))) };
          }
          return undefined;
        },
      });
      const storage = storageFor(bucket, { endpoint: proxy.endpoint, secretAccessKey: 'S3RVER-SECRET' });
      try {
        await assert.rejects(storage.check('write'), expectUserError('storage.auth', proxy.endpoint, 'list'));
        // As the CLI does after a failed check: a delete still on its way would die with the connections.
        await storage.close();
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(await listTestKeys(admin, bucket), [], 'no probe left in the bucket');
      } finally {
        await storage.close();
        await proxy.close();
      }
    });

    test('closed while its write probe is out (another error ended the command first), the storage lets the probe finish and be deleted', async () => {
      const bucket = await newBucket();
      const proxy = await startS3Proxy(server.endpoint);
      let releaseProbe: () => void = () => undefined;
      const probeHeld = new Promise<void>((resolve) => (releaseProbe = resolve));
      let probeArrived: () => void = () => undefined;
      const arrived = new Promise<void>((resolve) => (probeArrived = resolve));
      proxy.setFaults({
        choose(request) {
          if (request.method !== 'PUT') return undefined;
          probeArrived();
          return { until: probeHeld };
        },
      });
      const storage = storageFor(bucket, { endpoint: proxy.endpoint });
      try {
        const check = storage.check('write');
        check.catch(() => undefined);
        await arrived;
        // As the CLI does when the database refuses while the checks are still out: it closes the storages.
        const closed = storage.close();
        releaseProbe();
        await closed;
        await check;
        const probeRequests = proxy.requests.filter((request) => request.path.endsWith('.mastodon-s3-sync-write-check')).map((request) => request.method);
        assert.deepEqual(probeRequests, ['PUT', 'DELETE'], 'the probe was written, then deleted before the connections closed');
        assert.deepEqual(await listTestKeys(admin, bucket), [], 'no probe left in the bucket');
      } finally {
        await proxy.close();
      }
    });

    test('check(write) writes and deletes a probe, leaving the bucket as it was', async () => {
      const bucket = await newBucket();
      await putTestObject(admin, bucket, 'existing.txt', 'x');
      await storageFor(bucket).check('write');
      await storageFor(bucket, { prefix: 'tenant' }).check('write');
      assert.deepEqual(await listTestKeys(admin, bucket), ['existing.txt']);
    });
  });
});

describe('s3-server test helpers', () => {
  test('seed, read back and list objects; a missing key is undefined', async () => {
    const bucket = await newBucket();
    await putTestObject(admin, bucket, 'b/two.txt', Buffer.from('two'), { contentType: 'text/plain', cacheControl: 'no-cache' });
    await putTestObject(admin, bucket, 'a/one.txt', 'one');
    assert.deepEqual(await getTestObject(admin, bucket, 'b/two.txt'), { body: Buffer.from('two'), contentType: 'text/plain', cacheControl: 'no-cache', etag: md5(Buffer.from('two')) });
    assert.equal(await getTestObject(admin, bucket, 'missing.txt'), undefined);
    assert.deepEqual(await listTestKeys(admin, bucket), ['a/one.txt', 'b/two.txt']);
    assert.deepEqual(await listTestKeys(admin, bucket, 'b/'), ['b/two.txt']);
  });

  test('startS3Server creates the buckets; stop() frees the port and removes the directory', async () => {
    const extra = await startS3Server({ buckets: ['one', 'two'] });
    const client = s3ClientFor(extra.endpoint);
    const storage = new S3Storage(s3rverStorageOptions(extra.endpoint, 'two'));
    try {
      await new S3Storage(s3rverStorageOptions(extra.endpoint, 'one')).check('write');
      await writeBytes(storage, 'k', Buffer.from('v'));
      assert.equal((await readBytes(storage, 'k'))?.toString(), 'v');
      const big = generatedStream(1024);
      await storage.write('g', big.stream, { size: 1024 });
      assert.equal((await hashStream((await storage.read('g'))!.body)).md5, big.md5());
    } finally {
      client.destroy();
      await storage.close();
      await extra.stop();
    }
    await assert.rejects(storage.head('k'), { code: 'ECONNREFUSED' });
    await assert.rejects(rm(extra.directory, { recursive: true }), { code: 'ENOENT' });
  });
});
