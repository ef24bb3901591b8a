/** `npm run generate`: a synthetic instance in a Mastodon database and a source storage. */
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { createStorage } from '../../src/storage/create-storage.js';
import { toolArguments } from '../tool-arguments.js';
import { createInstanceDatabase, generateInstance, parseScale, planSummary } from './index.js';

const usage = `
npm run generate -- [options]: fills a Mastodon database and a source storage with a
synthetic instance.

  --scale 10k              about how many objects the rows reference (1k, 10k, 100k...)
  --seed demo              same seed, same instance
  --no-anomalies           no misplaced/missing objects, no legacy names (the bench's mode)
  --database-url URL       an existing database holding the Mastodon schema
  --create-database NAME   or: create it on 127.0.0.1:5432 (PG* variables apply) and load the schema
  --s3-endpoint URL --bucket NAME [--access-key-id K --secret-access-key S --region R]
  --fs DIR                 or: write the objects into a directory laid out like public/system
  --concurrency 16         uploads in flight
  --manifest FILE          write the plan's keys (referenced, orphans, absent, misplaced) as JSON
`;

const values = toolArguments('generate', usage, {
  options: {
    scale: { type: 'string', default: '1k' },
    seed: { type: 'string', default: 'mastodon-s3-sync' },
    'no-anomalies': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    'create-database': { type: 'string' },
    's3-endpoint': { type: 'string' },
    bucket: { type: 'string' },
    'access-key-id': { type: 'string', default: 'S3RVER' },
    'secret-access-key': { type: 'string', default: 'S3RVER' },
    region: { type: 'string', default: 'us-east-1' },
    fs: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    manifest: { type: 'string' },
  },
});

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

function fail(message: string): never {
  process.stderr.write(`generate: ${message}\n`);
  process.exit(2);
}

const scale = parseScale(values.scale);
const concurrency = Number(values.concurrency);
if ((values['database-url'] === undefined) === (values['create-database'] === undefined)) fail('give either --database-url or --create-database');
if ((values.fs === undefined) === (values['s3-endpoint'] === undefined)) fail('give either --s3-endpoint with --bucket, or --fs');
if (values['s3-endpoint'] !== undefined && values.bucket === undefined) fail('--s3-endpoint needs --bucket');

if (values.fs !== undefined) await mkdir(values.fs, { recursive: true });
const storage = createStorage(
  values.fs !== undefined
    ? { type: 'fs', root: values.fs }
    : {
        type: 's3',
        endpoint: values['s3-endpoint']!,
        region: values.region,
        bucket: values.bucket!,
        accessKeyId: values['access-key-id'],
        secretAccessKey: values['secret-access-key'],
        forcePathStyle: true,
        maxSockets: concurrency,
        multipartThreshold: 15 * 1024 * 1024,
        partSize: 8 * 1024 * 1024,
      },
);
// The storage first: an endpoint that is not up fails in one line, before a database is made.
await storage.check('write').catch(async (error: unknown) => {
  await storage.close();
  fail(`${error instanceof Error ? error.message : String(error)}${values['s3-endpoint'] !== undefined ? ' (npm run local-s3 starts a local S3 endpoint)' : ''}`);
});

let client: pg.Client;
let databaseUrl: string;
/** Drops the database this run created when the run fails: nothing half-filled is left behind. */
let dropCreated: (() => Promise<void>) | undefined;
try {
  if (values['create-database'] !== undefined) {
    const database = await createInstanceDatabase({ name: values['create-database'] });
    client = database.client;
    databaseUrl = database.url;
    dropCreated = database.drop;
  } else {
    databaseUrl = values['database-url']!;
    client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ count: string }>("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'accounts'");
    if (rows[0]?.count !== '1') fail('--database-url must name a database that holds the Mastodon schema (or use --create-database NAME)');
    const { rows: filled } = await client.query<{ filled: boolean }>('SELECT EXISTS (SELECT 1 FROM accounts) AS filled');
    if (filled[0]?.filled === true) fail('the database already holds accounts: generate into an empty one (--create-database NAME makes one)');
  }
} catch (error) {
  await storage.close();
  fail(error instanceof Error ? error.message : String(error));
}

let lastReport = 0;
try {
  const result = await generateInstance({
    scale,
    seed: values.seed,
    anomalies: !values['no-anomalies'],
    client,
    storage,
    concurrency,
    onProgress: (progress) => {
      const now = Date.now();
      if (now - lastReport < 1000) return;
      lastReport = now;
      process.stderr.write(`generate: ${progress.objects} objects, ${(progress.bytes / 1e6).toFixed(0)} MB written\n`);
    },
  });
  const summary = planSummary(result.plan);
  process.stderr.write(
    `generate: ${summary.referencedKeys} referenced keys (${(summary.referencedBytes / 1e6).toFixed(0)} MB) and ${summary.orphans} orphans ` +
      `in ${result.rowsSeconds.toFixed(1)} s (rows) + ${result.objectsSeconds.toFixed(1)} s (objects); database ${databaseUrl}\n`,
  );
  if (values.manifest !== undefined) {
    const { referencedKeys, orphanKeys, absentKeys, misplaced } = result.plan;
    await writeFile(values.manifest, JSON.stringify({ options: result.plan.options, summary, referencedKeys, orphanKeys, absentKeys, misplaced }, null, 1));
  }
} catch (error) {
  await storage.close();
  await (dropCreated ?? (() => client.end()))();
  fail(`${error instanceof Error ? error.message : String(error)}${dropCreated !== undefined ? ` (database ${values['create-database']} dropped)` : ''}`);
}
await storage.close();
await client.end();
