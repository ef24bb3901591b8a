import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { insertAccount, insertMediaAttachment, utcTimestamp } from '../helpers/postgres.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, s3Section, jobSummary, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

const longAgo = utcTimestamp(new Date('2023-01-01T00:00:00Z'));

describe('delta syncs (--since) and --local-only', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  let config: string;
  let nextId = 100;

  /** A media row with its two objects in the source; `changed` sets updated_at and file_updated_at. */
  async function addMedia(changed: string | undefined, remote = false): Promise<string[]> {
    const id = String((nextId += 1));
    const name = `${id}0000aaaabbbb.jpeg`;
    const stamps = changed === undefined ? {} : { updated_at: changed, created_at: changed, file_updated_at: changed };
    await insertMediaAttachment(instance.database.client, {
      id,
      file_file_name: name,
      file_content_type: 'image/jpeg',
      ...(remote ? { remote_url: `https://remote.example/${name}`, file_storage_schema_version: 1 } : {}),
      ...stamps,
    });
    const keys = ['original', 'small'].map((style) => `${remote ? 'cache/' : ''}media_attachments/files/000/000/${id}/${style}/${name}`);
    for (const key of keys) await instance.seed(key, `bytes of ${key}`);
    return keys;
  }

  /** Source keys a run asked about, from the proxy's log. */
  async function sync(args: string[]): Promise<{ result: Awaited<ReturnType<typeof runCli>>; asked: string[] }> {
    const start = proxy.requests.length;
    const result = await runCli(['sync', 'media_attachments', '--config', config, '--json', ...args]);
    const asked = proxy.requests
      .slice(start)
      .filter((request) => request.path.startsWith(`/${sourceBucket}/`) && !request.path.endsWith('write-check'))
      .map((request) => request.path.slice(sourceBucket.length + 2))
      .filter((key) => key !== '');
    return { result, asked: [...new Set(asked)].sort() };
  }

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.sourceServer.endpoint);
    config = await instance.writeConfig({
      source: s3Section(proxy.endpoint, sourceBucket),
    });
    await insertAccount(instance.database.client, { id: '1' });
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  test('--since last before any completed sync: one clear line', async () => {
    const first = await sync(['--since', 'last']);
    assert.equal(first.result.code, 2);
    assert.match(first.result.stderr, /--since last: no state file at .*state\.sqlite: point --state \(or \[sync\] state_path\) at the earlier runs' file, or run a sync first/);
    // A run cut short by --limit is not a completed sync.
    assert.equal((await sync(['--limit', '1'])).result.code, 0);
    const { result } = await sync(['--since', 'last']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--since last: the state file .* records no completed sync of media_attachments .*: run a full sync first/);
  });

  test('--since with a time that is not ISO 8601: one clear line', async () => {
    const { result } = await sync(['--since', 'yesterday']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--since must be an ISO 8601 time such as 2025-06-01T12:00:00Z, or "last", not "yesterday"/);
  });

  test('--since with a day its month does not have is refused, not rolled over into the next month', async () => {
    for (const day of ['2025-02-30', '2025-02-29T12:00:00Z', '2025-06-31T00:00:00+02:00']) {
      const { result, asked } = await sync(['--since', day]);
      assert.equal(result.code, 2, `${day}: ${result.stderr}`);
      assert.equal(result.stderr, `mastodon-s3-sync: --since: "${day}" is not a valid time (no such month, day or hour): give one such as 2025-06-01T12:00:00Z, or "last"\n`);
      assert.deepEqual(asked, []);
    }
  });

  test('--since TIMESTAMP reads only rows changed after it', async () => {
    const old = await addMedia(longAgo);
    const recent = await addMedia(utcTimestamp(new Date('2024-06-01T00:00:00Z')));
    const { result, asked } = await sync(['--since', '2024-01-01']);
    assert.equal(result.code, 0, result.stderr);
    const summary = jobSummary(result.stdout, 'media_attachments');
    assert.deepEqual({ rows: summary.rows, copied: summary.copied }, { rows: 1, copied: 2 });
    assert.deepEqual(asked, recent.sort());
    assert.deepEqual(await instance.destinationKeys(), recent.sort());
    assert.ok(old.every((key) => !asked.includes(key)));
  });

  test('--since last, after a full sync, copies only what changed since that sync began', async () => {
    const full = await sync([]);
    assert.equal(full.result.code, 0, full.result.stderr);
    const before = await instance.destinationKeys();
    assert.equal(before.length, 4);

    const added = await addMedia(undefined);
    const { result, asked } = await sync(['--since', 'last']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /rows changed since \d{4}-\d{2}-\d{2}T/);
    assert.equal(jobSummary(result.stdout, 'media_attachments').rows, 1);
    assert.deepEqual(asked, added.sort());
    assert.deepEqual(await instance.destinationKeys(), [...before, ...added].sort());

    // The mark moved to the delta run's start, less a 5-minute safety margin: the row is read again, its keys
    // are settled by the journal, and neither storage is asked.
    const again = await sync(['--since', 'last']);
    const summary = jobSummary(again.result.stdout, 'media_attachments');
    assert.deepEqual({ rows: summary.rows, copied: summary.copied, skipped: summary.skipped }, { rows: 1, copied: 0, skipped: 2 });
    assert.deepEqual(again.asked, []);
  });

  test('--local-only leaves cache/ objects out; they are copied by a later run without it', async () => {
    const local = await addMedia(undefined);
    const remote = await addMedia(undefined, true);
    const { result, asked } = await sync(['--local-only']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(local.every((key) => asked.includes(key)));
    assert.ok(asked.every((key) => !key.startsWith('cache/')));
    const keys = await instance.destinationKeys();
    assert.ok(remote.every((key) => !keys.includes(key)));

    const all = await sync([]);
    assert.equal(all.result.code, 0);
    assert.deepEqual(all.asked, remote.sort(), 'only the cache/ objects were left to do');
  });
});
