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
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { s3rverOptions } from './s3-fixtures.js';
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

function storageOn(server: S3Server, overrides: Parameters<typeof s3rverOptions>[2] = {}): S3Storage {
  const storage = new S3Storage(s3rverOptions(server.endpoint, 'media', { multipartThreshold: 15 * mebibyte, partSize: 8 * mebibyte, ...overrides }));
  storages.push(storage);
  return storage;
}

/** Runs `work` while sampling RSS every 20 ms; returns the peak growth over the RSS just before. */
async function peakRssGrowth(work: () => Promise<void>): Promise<{ growth: number; milliseconds: number }> {
  collectGarbage();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { growth: peak - baseline, milliseconds: performance.now() - started };
}

const mb = (bytes: number): string => `${(bytes / mebibyte).toFixed(1)} MB`;

before(async () => {
  [source, destination] = await Promise.all([startS3Server({ buckets: ['media'] }), startS3Server({ buckets: ['media'] })]);
});

after(async () => {
  await Promise.all(storages.map((storage) => storage.close()));
  await Promise.all([source.stop(), destination.stop()]);
});

test('seeding a 200 MB object from a generated stream keeps memory flat', { timeout: 120_000 }, async (t) => {
  // The first large transfer of a process grows the allocator's arenas once (about 50 MB here,
  // whatever the object's size); a 32 MB warm-up takes that out, so the figure below is what
  // grows with the object.
  await storageOn(source).write('warm-up.bin', generatedStream(32 * mebibyte).stream, { size: 32 * mebibyte });
  const generated = generatedStream(objectSize);
  const { growth, milliseconds } = await peakRssGrowth(() => storageOn(source).write(key, generated.stream, { size: objectSize, contentType: 'video/mp4' }));
  sourceMd5 = generated.md5();
  t.diagnostic(`upload 200 MB (multipart, 8 MB parts): ${Math.round(milliseconds)} ms, peak RSS growth ${mb(growth)}`);
  assert.ok(growth < allowedGrowth, `RSS grew by ${mb(growth)}`);
  assert.equal((await storageOn(source).head(key))?.size, objectSize);
});

async function copyAcross(t: TestContext, label: string, destinationStorage: S3Storage, destinationKey: string): Promise<void> {
  assert.ok(sourceMd5, 'the seeding test ran first');
  const { growth, milliseconds } = await peakRssGrowth(async () => {
    const read = await storageOn(source).read(key);
    assert.ok(read);
    await destinationStorage.write(destinationKey, read.body, { size: read.info.size, contentType: read.info.contentType, cacheControl: 'public, max-age=315576000, immutable' });
  });
  t.diagnostic(`${label}: ${Math.round(milliseconds)} ms (${mb((objectSize / milliseconds) * 1000)}/s), peak RSS growth ${mb(growth)}`);
  assert.ok(growth < allowedGrowth, `RSS grew by ${mb(growth)} while streaming ${mb(objectSize)}`);

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
