import type { S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { idPartition } from '../../src/mastodon/id-partition.js';
import { MastodonDatabase } from '../../src/mastodon/index.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { cutPointsFromDatabase } from '../../src/sync/listing-cuts.js';
import { listPrefixes, type ListingOptions } from '../../src/sync/listing.js';
import type { InventoryEntry } from '../../src/journal/journal-scope.js';
import { s3rverStorageOptions } from '../../tools/local-s3/local-s3.js';
import { createScratchDatabase, snowflakeId, type ScratchDatabase } from '../helpers/postgres.js';
import { startS3Proxy, type RecordedRequest, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestBucket, putTestObject, s3ClientFor, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { inParallel } from '../storage/storage-helpers.js';

const bucket = 'listed';
const retry = { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 };
let server: S3Server;
let proxy: S3Proxy;
let admin: S3Client;
let scratch: ScratchDatabase;
let database: MastodonDatabase;
let storage: S3Storage;
/** Every key put in the bucket, in S3's order. */
let keys: string[];

/** 600 media rows with snowflake ids over three years, their originals (a few also cached), avatars, and keys no row explains. */
before(async () => {
  server = await startS3Server();
  admin = s3ClientFor(server.endpoint);
  await createTestBucket(admin, bucket);
  proxy = await startS3Proxy(server.endpoint);
  storage = new S3Storage(s3rverStorageOptions(proxy.endpoint, bucket));
  scratch = await createScratchDatabase();

  const start = Date.UTC(2022, 0, 1);
  const mediaIds = Array.from({ length: 600 }, (_, index) => snowflakeId(new Date(start + index * 3 * 365 * 24 * 3600_000 / 600), index));
  await scratch.client.query(
    `INSERT INTO media_attachments (id, file_file_name, file_content_type, created_at, updated_at)
     SELECT id, id::text || '.jpg', 'image/jpeg', now(), now() FROM unnest($1::bigint[]) AS id`,
    [mediaIds],
  );
  const accountIds = mediaIds.slice(0, 40);
  await scratch.client.query(
    `INSERT INTO accounts (id, username, avatar_file_name, created_at, updated_at)
     SELECT id, 'user' || id::text, 'a.png', now(), now() FROM unnest($1::bigint[]) AS id`,
    [accountIds],
  );
  keys = [
    ...mediaIds.map((id) => `media_attachments/files/${idPartition(id)}/original/${id}.jpg`),
    ...mediaIds.slice(0, 30).map((id) => `cache/media_attachments/files/${idPartition(id)}/original/${id}.jpg`),
    ...accountIds.map((id) => `accounts/avatars/${idPartition(id)}/original/a.png`),
    // Before, between and after every cut point a row can give: a range must still hold them.
    'media_attachments/files/000/000/001/original/old.jpg',
    'media_attachments/files/README',
    'media_attachments/files/zzz/odd.bin',
  ].sort();
  await inParallel(keys, 16, (key) => putTestObject(admin, bucket, key, 'x'));
  database = await MastodonDatabase.connect({ connectionString: scratch.url });
});

after(async () => {
  await database.close();
  await scratch.drop();
  await storage.close();
  await proxy.close();
  admin.destroy();
  await server.stop();
});

/** Lists the prefixes with the database's cut points, returning every entry handed over, sorted. */
async function listed(prefixes: string[], options: Partial<ListingOptions> = {}): Promise<{ keys: string[]; count: number }> {
  const entries: InventoryEntry[] = [];
  const count = await listPrefixes(storage, prefixes, (batch) => entries.push(...batch), {
    retry,
    parallel: 3,
    splitAfter: 100,
    cutPoints: cutPointsFromDatabase(database, ['media_attachments', 'accounts']),
    ...options,
  });
  return { keys: entries.map((entry) => entry.key).sort(), count };
}

const rangeListings = (requests: RecordedRequest[]): RecordedRequest[] => requests.filter((request) => request.method === 'GET' && /(^|&)start-after=/.test(request.query));
const under = (prefix: string): string[] => keys.filter((key) => key.startsWith(prefix));

test('a prefix longer than splitAfter goes on as ranges between the id quantiles, listed at once, each key exactly once', async () => {
  proxy.requests.length = 0;
  let rangesSeen = 0;
  let secondRange!: () => void;
  const twoRangesAtOnce = new Promise<boolean>((resolve) => {
    secondRange = () => resolve(true);
    setTimeout(() => resolve(false), 5000).unref();
  });
  // The first range's listing is held until a second one arrives: only a parallel listing gets past it.
  proxy.setFaults({
    choose: (request) => {
      if (rangeListings([request]).length === 0) return undefined;
      rangesSeen += 1;
      if (rangesSeen === 1) return { until: twoRangesAtOnce };
      if (rangesSeen === 2) secondRange();
      return undefined;
    },
  });
  try {
    const result = await listed(['media_attachments/files/', 'accounts/avatars/']);
    const expected = [...under('media_attachments/files/'), ...under('accounts/avatars/')].sort();
    assert.deepEqual(result.keys, expected);
    assert.equal(result.count, expected.length);
    assert.equal(await twoRangesAtOnce, true, 'two ranges of the prefix were listed at the same time');
  } finally {
    proxy.setFaults(undefined);
  }
  // 3 listings at once, 4 ranges each: 11 quantiles of the 600 rows. The ranges start at the 100th key
  // and at each quantile's partition beyond it. The avatars (40 keys) were never cut.
  const hundredth = under('media_attachments/files/')[99] as string;
  const quantiles = (await database.idQuantiles('media_attachments', 12)).map((id) => `media_attachments/files/${idPartition(id)}/`);
  assert.equal(quantiles.length, 11);
  const starts = rangeListings(proxy.requests).map((request) => new URLSearchParams(request.query).get('start-after'));
  assert.deepEqual(starts.sort(), [hundredth, ...quantiles.filter((cut) => cut > hundredth)].sort());
});

test('a range whose listing is cut off is listed again, and every key still arrives', async () => {
  let ranges = 0;
  proxy.setFaults({ choose: (request) => (rangeListings([request]).length > 0 && ++ranges % 3 === 0 ? 'reset' : undefined) });
  try {
    const result = await listed(['media_attachments/files/', 'cache/media_attachments/files/']);
    const expected = [...under('media_attachments/files/'), ...under('cache/media_attachments/files/')].sort();
    // A range started over hands its first keys over twice; the inventory's sink takes them again.
    assert.deepEqual([...new Set(result.keys)], expected);
    assert.ok(proxy.faults.includes('reset'));
  } finally {
    proxy.setFaults(undefined);
    proxy.faults.length = 0;
  }
});

test('without cut points, or below splitAfter, a prefix is one sequence of pages', async () => {
  proxy.requests.length = 0;
  const unsplit = await listed(['media_attachments/files/'], { cutPoints: undefined });
  assert.deepEqual(unsplit.keys, under('media_attachments/files/'));
  const small = await listed(['media_attachments/files/'], { splitAfter: 10_000 });
  assert.deepEqual(small.keys, under('media_attachments/files/'));
  assert.deepEqual(rangeListings(proxy.requests), []);
});

test('when the database cannot give cut points, the prefix is listed to its end in one sequence', async () => {
  const closed = await MastodonDatabase.connect({ connectionString: scratch.url });
  await closed.close();
  proxy.requests.length = 0;
  const result = await listed(['media_attachments/files/'], { cutPoints: cutPointsFromDatabase(closed, ['media_attachments']) });
  assert.deepEqual(result.keys, under('media_attachments/files/'));
  // One range: from the 100th key to the end.
  assert.equal(rangeListings(proxy.requests).length, 1);
});

test('cut points are the id partitions of the quantiles, under every attachment prefix inside the one listed', async () => {
  const cuts = cutPointsFromDatabase(database, ['media_attachments', 'accounts']);
  const ids = await database.idQuantiles('media_attachments', 4);
  assert.equal(ids.length, 3);
  assert.deepEqual(await cuts('cache/media_attachments/files/', 4), ids.map((id) => `cache/media_attachments/files/${idPartition(id)}/`));
  // A class prefix (orphans lists those) takes the cut points of each of its attachments.
  assert.deepEqual(await cuts('media_attachments/', 4), [
    ...ids.map((id) => `media_attachments/files/${idPartition(id)}/`),
    ...ids.map((id) => `media_attachments/thumbnails/${idPartition(id)}/`),
  ]);
  assert.deepEqual(await cuts('custom_emojis/', 4), []);
});
