import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { s3rverStorageOptions, startLocalS3, type LocalS3 } from '../../tools/local-s3/local-s3.js';
import {
  createInstanceDatabase,
  generateInstance,
  objectMd5,
  planInstance,
  planSummary,
  type InstanceDatabase,
  type InstancePlan,
} from '../../tools/synthetic-instance/index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** Written out by hand from Mastodon's layout rules (shared/mastodon-storage.md), NOT computed: they catch a derivation that drifts. */
const handWrittenKeys = [
  // Local account, serial id, GIF avatar (original + png static), JPEG header.
  'accounts/avatars/000/012/345/original/a1b2c3d4e5f60718.gif',
  'accounts/avatars/000/012/345/static/a1b2c3d4e5f60718.png',
  'accounts/headers/000/012/345/original/b1c2d3e4f5a60718.jpeg',
  // Remote account, snowflake id, storage schema version 1: cache/.
  'cache/accounts/avatars/109/283/929/999/999/999/original/5f952d09eed7d402.png',
  // Remote account fetched before 3.1.4 (version 0): no cache/, and a webp has no static.
  'accounts/avatars/000/004/242/original/0123456789abcdef.webp',
  // Local video: mp4 original, png small, custom thumbnail (never cache/ for local media).
  'media_attachments/files/110/123/456/789/012/345/original/ab12cd34ef56ab78.mp4',
  'media_attachments/files/110/123/456/789/012/345/small/ab12cd34ef56ab78.png',
  'media_attachments/thumbnails/110/123/456/789/012/345/original/c0ffee0123456789.jpeg',
  // Remote image, version 1: cache/, small keeps the original's name.
  'cache/media_attachments/files/114/451/757/786/922/201/original/520bab958952f332.jpeg',
  'cache/media_attachments/files/114/451/757/786/922/201/small/520bab958952f332.jpeg',
  // Remote image with a serial id from before 3.1.4: no cache/.
  'media_attachments/files/000/987/654/original/feedfacecafebeef.png',
  'media_attachments/files/000/987/654/small/feedfacecafebeef.png',
  // Remote video fetched by 4.6+: its thumbnail is under cache/ too.
  'cache/media_attachments/files/115/555/555/555/555/555/original/deadbeef00112233.mp4',
  'cache/media_attachments/files/115/555/555/555/555/555/small/deadbeef00112233.png',
  'cache/media_attachments/thumbnails/115/555/555/555/555/555/original/deadbeef44556677.png',
  // Remote emoji: original + png static, cache/.
  'cache/custom_emojis/images/000/000/042/original/cafe0123456789ab.gif',
  'cache/custom_emojis/images/000/000/042/static/cafe0123456789ab.png',
  // Preview cards are never local: cache/ at version 1.
  'cache/preview_cards/images/000/000/007/original/0a1b2c3d4e5f6a7b.jpg',
  // Site upload favicon: original plus 16/32/48 png.
  'site_uploads/files/000/000/002/original/fa71c0de00000001.ico',
  'site_uploads/files/000/000/002/16/fa71c0de00000001.png',
  'site_uploads/files/000/000/002/32/fa71c0de00000001.png',
  'site_uploads/files/000/000/002/48/fa71c0de00000001.png',
  // A backup dump.
  'backups/dumps/000/000/001/original/archive-20240101120000-0123456789abcdef0123456789abcdef.zip',
];
const keysThatMustNotExist = [
  'accounts/avatars/000/004/242/static/0123456789abcdef.png',
  'cache/accounts/avatars/000/004/242/original/0123456789abcdef.webp',
  'cache/media_attachments/thumbnails/110/123/456/789/012/345/original/c0ffee0123456789.jpeg',
];

const sortedKeys = (keys: Iterable<string>): string[] => [...keys].sort();

describe('the synthetic instance plan', () => {
  test('one seed gives one instance; another seed another', () => {
    const a = planInstance({ scale: 300, seed: 'alpha', anomalies: true });
    const again = planInstance({ scale: 300, seed: 'alpha', anomalies: true });
    const b = planInstance({ scale: 300, seed: 'beta', anomalies: true });
    assert.deepEqual(again.referencedKeys, a.referencedKeys);
    assert.deepEqual(again.objects, a.objects);
    assert.deepEqual(again.rows, a.rows);
    assert.notDeepEqual(b.referencedKeys, a.referencedKeys);
  });

  test('holds the hand-written keys, and not the ones Mastodon never writes', () => {
    const plan = planInstance({ scale: 300, seed: 'alpha', anomalies: false });
    const keys = new Set(plan.referencedKeys);
    for (const key of handWrittenKeys) assert.ok(keys.has(key), `missing ${key}`);
    for (const key of keysThatMustNotExist) assert.ok(!keys.has(key), `unexpected ${key}`);
  });

  test('covers the layout rules and a long-tailed size mix', () => {
    const plan = planInstance({ scale: 1000, seed: 'alpha', anomalies: false });
    const summary = planSummary(plan);
    assert.ok(summary.referencedKeys >= 1000 && summary.referencedKeys < 1010, `scale 1000 gave ${summary.referencedKeys} keys`);
    const keys = plan.referencedKeys;
    const ids = plan.rows.accounts.map((row) => String(row['id']));
    assert.ok(ids.some((id) => id.length === 18) && ids.some((id) => id.length <= 6), 'snowflake and serial account ids');
    const mediaIds = plan.rows.media_attachments.map((row) => String(row['id']));
    assert.ok(mediaIds.some((id) => id.length === 18) && mediaIds.some((id) => id.length <= 8), 'snowflake and serial media ids');
    for (const type of ['image/gif', 'image/png', 'image/jpeg', 'image/webp']) {
      assert.ok(plan.rows.accounts.some((row) => row['avatar_content_type'] === type), `an avatar of type ${type}`);
    }
    for (const type of ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/gif', 'video/mp4', 'video/quicktime', 'audio/mpeg']) {
      assert.ok(plan.rows.media_attachments.some((row) => row['file_content_type'] === type), `media of type ${type}`);
    }
    assert.ok(plan.rows.media_attachments.some((row) => row['remote_url'] !== '' && row['file_storage_schema_version'] === null), 'remote media at version 0');
    assert.ok(plan.rows.accounts.some((row) => row['domain'] !== null && row['avatar_storage_schema_version'] === null && row['avatar_file_name'] !== null), 'remote accounts at version 0');
    assert.ok(plan.rows.custom_emojis.some((row) => row['domain'] === null) && plan.rows.custom_emojis.some((row) => row['domain'] !== null), 'local and remote emojis');
    for (const prefix of ['accounts/', 'cache/accounts/', 'media_attachments/', 'cache/media_attachments/', 'custom_emojis/', 'cache/custom_emojis/', 'cache/preview_cards/', 'site_uploads/', 'backups/', 'preview_card_providers/']) {
      assert.ok(keys.some((key) => key.startsWith(prefix)), `a key under ${prefix}`);
    }
    const sizeOf = new Map(plan.objects.map((o) => [o.key, o.size]));
    const avatars = keys.filter((key) => /^(cache\/)?accounts\/avatars\/.*\/original\//.test(key)).map((key) => sizeOf.get(key)!);
    assert.ok(avatars.every((size) => size >= 30 * 1024 && size <= 100 * 1024), 'avatars 30–100 KB');
    assert.equal(summary.largestObject, 12_288_000, 'at 1k objects the largest video is 12 MB');
    assert.ok(summary.sizePercentiles.p50 < 200 * 1024 && summary.sizePercentiles.p99 > 2 * 1024 * 1024, 'long tail');
    assert.ok(plan.objects.filter((o) => o.job === 'backups').every((o) => o.acl === 'private'), 'backups are private');
    const referenced = new Set(keys);
    assert.ok(plan.orphanKeys.length >= 20, 'about 2% orphans');
    assert.ok(plan.orphanKeys.every((key) => !referenced.has(key)), 'orphans are referenced by no row');
  });
});

describe('a tiny instance in PostgreSQL and S3', () => {
  const seed = 'generator-test';
  let database: InstanceDatabase;
  let server: LocalS3;
  let client: S3Client;
  let directory: string;
  let plan: InstancePlan;
  let config: string;

  before(async () => {
    [database, server, directory] = await Promise.all([
      createInstanceDatabase(),
      startLocalS3({ buckets: ['source', 'destination'] }),
      mkdtemp(path.join(tmpdir(), 'mss-generator-test-')),
    ]);
    client = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const storage = new S3Storage(s3rverStorageOptions(server.endpoint, 'source'));
    plan = (await generateInstance({ scale: 200, seed, anomalies: true, client: database.client, storage, concurrency: 16 })).plan;
    await storage.close();
    const s3 = (bucket: string): string =>
      `type = s3\nendpoint = ${server.endpoint}\nbucket = ${bucket}\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\n`;
    config = path.join(directory, 'config.ini');
    await writeFile(config, `[database]\nurl = ${database.url}\n\n[source]\n${s3('source')}\n[destination]\n${s3('destination')}\n[sync]\nconcurrency = 16\n`);
  });

  after(async () => {
    client?.destroy();
    await Promise.all([database?.drop(), server?.stop(), directory && rm(directory, { recursive: true, force: true })]);
  });

  async function bucketKeys(bucket: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token !== undefined ? { ContinuationToken: token } : {}) }));
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  test('the keys command lists exactly the keys the generator planned', async () => {
    const result = await runCli(['keys', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    const listed = result.stdout.split('\n').filter((line) => line !== '');
    assert.deepEqual(sortedKeys(listed), sortedKeys(plan.referencedKeys));
    for (const key of handWrittenKeys) assert.ok(listed.includes(key), `keys does not list ${key}`);
    for (const key of plan.orphanKeys) assert.ok(!listed.includes(key), `keys lists the orphan ${key}`);
  });

  test('the source holds the referenced objects, the anomalies as planned, and the orphans', async () => {
    const misplaced = new Map(plan.misplaced.map((m) => [m.key, m.storedAt]));
    const absent = new Set(plan.absentKeys);
    const expected = [
      ...plan.referencedKeys.filter((key) => !absent.has(key)).map((key) => misplaced.get(key) ?? key),
      ...plan.orphanKeys,
    ];
    assert.ok(plan.misplaced.length === 2 && plan.absentKeys.length === 4, 'two misplaced avatars, one lost original, three never-made styles');
    assert.ok(plan.referencedKeys.some((key) => key.endsWith('/IMG 2041.JPG')), 'a legacy file name with a space');
    assert.deepEqual(await bucketKeys('source'), sortedKeys(expected));
  });

  test('bodies are the deterministic content, with real signatures', async () => {
    const sizes = new Map(plan.objects.map((o) => [o.key, o.size]));
    for (const key of ['cache/accounts/avatars/109/283/929/999/999/999/original/5f952d09eed7d402.png', handWrittenKeys[0]!, handWrittenKeys[5]!]) {
      const response = await client.send(new GetObjectCommand({ Bucket: 'source', Key: key }));
      const body = Buffer.from(await response.Body!.transformToByteArray());
      assert.equal(body.length, sizes.get(key));
      assert.equal(createHash('md5').update(body).digest('hex'), objectMd5(key, body.length, seed));
      if (key.endsWith('.png')) {
        assert.deepEqual([...body.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        assert.equal(body.subarray(12, 16).toString('latin1'), 'IHDR');
      }
      if (key.endsWith('.gif')) assert.equal(body.subarray(0, 6).toString('latin1'), 'GIF89a');
      if (key.endsWith('.mp4')) assert.equal(body.subarray(4, 8).toString('latin1'), 'ftyp');
      assert.equal(response.ContentType, key.endsWith('.png') ? 'image/png' : key.endsWith('.gif') ? 'image/gif' : 'video/mp4');
      (response.Body as Readable | undefined)?.destroy?.();
    }
  });

  test('a sync copies every referenced object to its key and leaves every orphan behind', async () => {
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const absent = new Set(plan.absentKeys);
    assert.deepEqual(await bucketKeys('destination'), sortedKeys(plan.referencedKeys.filter((key) => !absent.has(key))));
    const record = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { summary: Record<string, number>[] };
    const total = (field: string): number => record.summary.reduce((sum, job) => sum + (job[field] ?? 0), 0);
    assert.equal(total('missing'), 1, 'the lost original');
    assert.equal(total('absentStyle'), 3, 'a small and the site thumbnail @1x/@2x never made');
    assert.equal(total('failed'), 0);
  });
});

const runner = fileURLToPath(new URL('./run-cli-from-source.ts', import.meta.url));
const builtCli = fileURLToPath(new URL('../../bin/mastodon-s3-sync.js', import.meta.url));
const sourceRoot = fileURLToPath(new URL('../../src', import.meta.url));
const builtMain = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The built CLI when dist/ is newer than every file in src/ (it starts in a fraction of the time); else src/ through tsx. */
async function cliCommand(): Promise<string[]> {
  const built = await stat(builtMain).then((s) => s.mtimeMs, () => 0);
  let newestSource = 0;
  for (const entry of await readdir(sourceRoot, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newestSource = Math.max(newestSource, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return built > newestSource ? [builtCli] : ['--import', 'tsx', runner];
}

async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = await cliCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
