/**
 * Memory while streaming a large object from one S3 server to another through
 * read() and write(): the bytes must flow, not pile up. Kept in its own file
 * (its own process) so that other tests' allocations do not blur the RSS figures.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { s3ClientFor, startS3Server, uploadTestStream, type S3Server } from '../helpers/s3-server.js';
import { s3rverStorageOptions } from '../../tools/local-s3/local-s3.js';
import { generatedStream, hashStream } from './storage-helpers.js';

const mebibyte = 1024 * 1024;
const objectSize = 200 * mebibyte;
const allowedGrowth = 100 * mebibyte;
const key = 'media_attachments/files/110/000/000/original/huge.mp4';

// A collected heap before each measurement, so the baseline is not inflated by earlier garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

let source: S3Server;
let destination: S3Server;
let sourceMd5: string;
const storages: S3Storage[] = [];

function storageOn(server: S3Server, overrides: Parameters<typeof s3rverStorageOptions>[2] = {}): S3Storage {
  const storage = new S3Storage(s3rverStorageOptions(server.endpoint, 'media', { multipartThreshold: 15 * mebibyte, partSize: 8 * mebibyte, ...overrides }));
  storages.push(storage);
  return storage;
}

interface MemoryGrowth {
  /** Peak RSS over RSS just before: what the operating system sees. */
  rss: number;
  /**
   * Peak of JS heap plus Buffer memory over the same just before. RSS alone can
   * hide buffering: memory freed by an earlier test stays in the allocator and in
   * RSS, so a later test that buffers would fit inside it. Live bytes cannot hide.
   */
  live: number;
  milliseconds: number;
}

const liveBytes = (): number => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

/** Runs `work` while sampling memory every 20 ms. */
async function memoryGrowth(work: () => Promise<void>): Promise<MemoryGrowth> {
  collectGarbage();
  const rssBefore = process.memoryUsage.rss();
  const liveBefore = liveBytes();
  let rssPeak = rssBefore;
  let livePeak = liveBefore;
  const sample = (): void => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    livePeak = Math.max(livePeak, liveBytes());
  };
  const sampler = setInterval(sample, 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  sample();
  return { rss: rssPeak - rssBefore, live: livePeak - liveBefore, milliseconds: performance.now() - started };
}

function assertFlat(growth: MemoryGrowth): void {
  assert.ok(growth.rss < allowedGrowth, `RSS grew by ${mb(growth.rss)} while streaming ${mb(objectSize)}`);
  assert.ok(growth.live < allowedGrowth, `heap + buffers grew by ${mb(growth.live)} while streaming ${mb(objectSize)}`);
}

const mb = (bytes: number): string => `${(bytes / mebibyte).toFixed(1)} MB`;

before(async () => {
  [source, destination] = await Promise.all([startS3Server({ buckets: ['media'] }), startS3Server({ buckets: ['media'] })]);
  // Seeded with the test client, not with S3Storage: a write() that buffered would otherwise
  // leave memory behind that the first measurement's baseline already contains.
  const client = s3ClientFor(source.endpoint);
  const generated = generatedStream(objectSize);
  await uploadTestStream(client, 'media', key, generated.stream, { contentType: 'video/mp4' });
  sourceMd5 = generated.md5();
  client.destroy();
  // The first large transfer of a process grows the allocator's arenas once (about 50 MB here,
  // whatever the object's size); a 32 MB warm-up through the code under test takes that out,
  // so the figures below are what grows with the object.
  await storageOn(destination).write('warm-up.bin', generatedStream(32 * mebibyte).stream, { size: 32 * mebibyte });
});

after(async () => {
  await Promise.all(storages.map((storage) => storage.close()));
  await Promise.all([source.stop(), destination.stop()]);
});

async function copyAcross(t: TestContext, label: string, destinationStorage: S3Storage, destinationKey: string): Promise<void> {
  const growth = await memoryGrowth(async () => {
    const read = await storageOn(source).read(key);
    assert.ok(read);
    await destinationStorage.write(destinationKey, read.body, { size: read.info.size, contentType: read.info.contentType, cacheControl: 'public, max-age=315576000, immutable' });
  });
  t.diagnostic(
    `${label}: ${Math.round(growth.milliseconds)} ms (${mb((objectSize / growth.milliseconds) * 1000)}/s), peak growth: RSS ${mb(growth.rss)}, heap + buffers ${mb(growth.live)}`,
  );
  assertFlat(growth);

  const copied = await destinationStorage.read(destinationKey);
  assert.ok(copied);
  assert.equal(copied.info.contentType, 'video/mp4');
  assert.deepEqual(await hashStream(copied.body), { md5: sourceMd5, size: objectSize });
}

test('streaming 200 MB between two servers through multipart write keeps memory flat and bytes intact', { timeout: 120_000 }, async (t) => {
  await copyAcross(t, 'copy 200 MB, multipart (8 MB parts, 2 in flight)', storageOn(destination), key);
});

test('streaming 200 MB between two servers as one streamed PUT keeps memory flat and bytes intact', { timeout: 120_000 }, async (t) => {
  await copyAcross(t, 'copy 200 MB, single streamed PutObject', storageOn(destination, { multipartThreshold: 1024 * mebibyte }), `${key}.single`);
});

// Last, so that whatever it might leave behind cannot blur the copies' baselines.
test('uploading 200 MB from a generated stream keeps memory flat', { timeout: 120_000 }, async (t) => {
  const generated = generatedStream(objectSize);
  const storage = storageOn(destination);
  const growth = await memoryGrowth(() => storage.write('generated.bin', generated.stream, { size: objectSize }));
  t.diagnostic(`upload 200 MB (multipart, 8 MB parts): ${Math.round(growth.milliseconds)} ms, peak growth: RSS ${mb(growth.rss)}, heap + buffers ${mb(growth.live)}`);
  assertFlat(growth);
  const stored = await storage.read('generated.bin');
  assert.ok(stored);
  assert.deepEqual(await hashStream(stored.body), { md5: generated.md5(), size: objectSize });
});
