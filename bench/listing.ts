/**
 * The bench's listing stage: one large prefix listed the way `sync`'s inventory, `verify` and
 * `orphans` list it, as one sequence of pages and cut at the table's id quantiles, behind a
 * proxy that adds a fixed latency to every request (s3rver answers on loopback; S3 does not).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { idPartition } from '../src/mastodon/id-partition.js';
import { MastodonDatabase } from '../src/mastodon/index.js';
import { S3Storage } from '../src/storage/s3/s3-storage.js';
import { cutPointsFromDatabase } from '../src/sync/listing-cuts.js';
import { listPrefixes } from '../src/sync/listing.js';
import { startS3Proxy } from '../test/helpers/s3-proxy.js';
import { s3ClientFor } from '../test/helpers/s3-server.js';
import { s3rverStorageOptions, startLocalS3 } from '../tools/local-s3/local-s3.js';
import { createInstanceDatabase } from '../tools/synthetic-instance/index.js';

export interface ListingRun {
  seconds: number[];
  requests: number;
  /** Every key listed, none missing (a range started over may hand some over twice). */
  complete: boolean;
}

export interface ListingResults {
  keys: number;
  latencyMs: number;
  /** Listings at once (what `sync` uses for its inventory). */
  parallel: number;
  putSeconds: number;
  uncut: ListingRun;
  cut: ListingRun;
}

const prefix = 'media_attachments/files/';
const parallel = 8;
const retry = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };
/** Four years of media, four times as many a day at the end as at the start: quantiles, not even id steps, balance that. */
const years = 4;

export async function measureListing(options: {
  keys: number;
  latencyMs: number;
  rounds: number;
  directory: string;
  log: (message: string) => void;
  /** Waits for the machine to calm down before each listing. */
  quiet: (what: string) => Promise<void>;
  cleanups: (() => Promise<unknown>)[];
}): Promise<ListingResults> {
  const { keys, log } = options;
  const server = await startLocalS3({ buckets: ['listing'], directory: options.directory });
  options.cleanups.push(() => server.stop());
  const database = await createInstanceDatabase({ name: `mss_bench_listing_${randomBytes(4).toString('hex')}` });
  options.cleanups.push(() => database.drop());
  const { rows } = await database.client.query<{ id: string }>(
    `INSERT INTO media_attachments (id, file_file_name, file_content_type, created_at, updated_at)
     SELECT ((${Date.UTC(2021, 0, 1)} + floor(sqrt(g::float8 / $1) * ${years * 365 * 86_400_000}))::bigint << 16) + g % 65536, 'x.jpg', 'image/jpeg', now(), now()
     FROM generate_series(1, $1::int) AS g
     RETURNING id::text AS id`,
    [keys],
  );

  log(`listing: putting ${keys} keys under ${prefix}`);
  const client = s3ClientFor(server.endpoint);
  options.cleanups.push(async () => client.destroy());
  const putStarted = performance.now();
  let next = 0;
  const putWorker = async (): Promise<void> => {
    for (let row = rows[next++]; row !== undefined; row = rows[next++]) {
      await client.send(new PutObjectCommand({ Bucket: 'listing', Key: `${prefix}${idPartition(row.id)}/original/x.jpg`, Body: '' }));
    }
  };
  await Promise.all(Array.from({ length: 64 }, putWorker));
  const putSeconds = (performance.now() - putStarted) / 1000;

  const proxy = await startS3Proxy(server.endpoint);
  options.cleanups.push(() => proxy.close());
  proxy.setFaults({ choose: () => ({ until: new Promise((resolve) => setTimeout(resolve, options.latencyMs)) }) });
  const storage = new S3Storage(s3rverStorageOptions(proxy.endpoint, 'listing'));
  options.cleanups.push(() => storage.close());
  const mastodon = await MastodonDatabase.connect({ connectionString: database.url });
  options.cleanups.push(() => mastodon.close());

  const results = { uncut: { seconds: [] as number[], requests: 0, complete: true }, cut: { seconds: [] as number[], requests: 0, complete: true } };
  for (let round = 1; round <= options.rounds; round++) {
    // Alternating which goes first, so that neither always meets the machine in the same state.
    const order = round % 2 === 1 ? (['uncut', 'cut'] as const) : (['cut', 'uncut'] as const);
    for (const kind of order) {
      await options.quiet(`listing (${kind})`);
      const listed = new Set<string>();
      proxy.requests.length = 0;
      const started = performance.now();
      await listPrefixes(storage, [prefix], (entries) => entries.forEach((entry) => listed.add(entry.key)), {
        retry,
        parallel,
        // A fresh provider a run: each cut listing pays for its own quantile query.
        ...(kind === 'cut' ? { cutPoints: cutPointsFromDatabase(mastodon, ['media_attachments']) } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      const run = results[kind];
      run.seconds.push(seconds);
      run.requests = proxy.requests.length;
      run.complete &&= listed.size === keys;
      log(`  ${kind === 'cut' ? 'cut at the id quantiles' : 'one sequence of pages'} (round ${round}/${options.rounds}): ${seconds.toFixed(2)} s, ${proxy.requests.length} requests, ${listed.size} keys`);
    }
  }
  return { keys, latencyMs: options.latencyMs, parallel, putSeconds, ...results };
}
