import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { insertAccount, insertMediaAttachment } from '../helpers/postgres.js';
import { runCli, runCliPiped, startCli } from '../helpers/cli.js';
import { createTestInstance, s3Section, jobSummary, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

const mastodonCacheControl = 'public, max-age=315576000, immutable';

describe('sync accounts and media_attachments from S3 to S3', () => {
  let instance: TestInstance;
  let config: string;
  const expected = new Map<string, { body: string; contentType: string; cacheControl: string }>();
  const remoteId = '109283929999999999';
  const misplacedId = '110000000000000001';

  before(async () => {
    instance = await createTestInstance();
    const db = instance.database.client;
    const seed = async (key: string, body: string, contentType: string, cacheControl?: string, expectAt = key): Promise<void> => {
      await instance.seed(key, body, { contentType, ...(cacheControl === undefined ? {} : { cacheControl }) });
      expected.set(expectAt, { body, contentType, cacheControl: cacheControl ?? mastodonCacheControl });
    };

    // A local account with a GIF avatar (original + static png) and a JPEG header, serial id.
    await insertAccount(db, {
      id: '12345',
      avatar_file_name: 'a1b2c3d4e5f60718.gif',
      avatar_content_type: 'image/gif',
      header_file_name: 'h1h2h3h4h5h6h7h8.jpeg',
      header_content_type: 'image/jpeg',
    });
    await seed('accounts/avatars/000/012/345/original/a1b2c3d4e5f60718.gif', 'GIF89a-animated', 'image/gif', mastodonCacheControl);
    await seed('accounts/avatars/000/012/345/static/a1b2c3d4e5f60718.png', 'PNG-static', 'image/png', 'max-age=60');
    await seed('accounts/headers/000/012/345/original/h1h2h3h4h5h6h7h8.jpeg', 'JPEG-header', 'image/jpeg');

    // A remote account fetched after 3.1.4: cache/ prefix, snowflake id.
    await insertAccount(db, {
      id: remoteId,
      domain: 'remote.example',
      avatar_file_name: 'r1r2r3r4r5r6r7r8.png',
      avatar_content_type: 'image/png',
      avatar_remote_url: 'https://remote.example/a.png',
      avatar_storage_schema_version: 1,
    });
    await seed('cache/accounts/avatars/109/283/929/999/999/999/original/r1r2r3r4r5r6r7r8.png', 'PNG-remote', 'image/png');

    // Marked upgraded by 3.1.4's broken storage-schema command, but never moved: found under the other variant.
    await insertAccount(db, {
      id: misplacedId,
      domain: 'old.example',
      avatar_file_name: 'm1m2m3m4m5m6m7m8.jpg',
      avatar_content_type: 'image/jpeg',
      avatar_storage_schema_version: 1,
    });
    await seed(
      'accounts/avatars/110/000/000/000/000/001/original/m1m2m3m4m5m6m7m8.jpg',
      'JPEG-misplaced',
      'image/jpeg',
      undefined,
      'cache/accounts/avatars/110/000/000/000/000/001/original/m1m2m3m4m5m6m7m8.jpg',
    );

    // An avatar the database names but the source lost; an account with no files at all.
    await insertAccount(db, { id: '777', avatar_file_name: 'gonegonegonegone.jpg', avatar_content_type: 'image/jpeg' });
    await insertAccount(db, { id: '778' });

    // Media: a video (small is a png), an audio file (original only), a remote image in cache/.
    await insertMediaAttachment(db, {
      id: '108088727359314311',
      file_file_name: 'v1v2v3v4v5v6v7v8.mp4',
      file_content_type: 'video/mp4',
      type: 2,
    });
    await seed('media_attachments/files/108/088/727/359/314/311/original/v1v2v3v4v5v6v7v8.mp4', 'MP4-bytes', 'video/mp4');
    await seed('media_attachments/files/108/088/727/359/314/311/small/v1v2v3v4v5v6v7v8.png', 'PNG-poster', 'image/png');
    await insertMediaAttachment(db, { id: '108088727359314312', file_file_name: 'au1au2au3au4au5a.mp3', file_content_type: 'audio/mpeg', type: 4 });
    await seed('media_attachments/files/108/088/727/359/314/312/original/au1au2au3au4au5a.mp3', 'MP3-bytes', 'audio/mpeg');
    await insertMediaAttachment(db, {
      id: '114451757786922201',
      file_file_name: '520bab958952f332.jpeg',
      file_content_type: 'image/jpeg',
      remote_url: 'https://remote.example/m.jpeg',
      file_storage_schema_version: 1,
    });
    await seed('cache/media_attachments/files/114/451/757/786/922/201/original/520bab958952f332.jpeg', 'JPEG-remote-original', 'image/jpeg');
    await seed('cache/media_attachments/files/114/451/757/786/922/201/small/520bab958952f332.jpeg', 'JPEG-remote-small', 'image/jpeg');

    // Orphans: objects no row references must stay behind.
    await instance.seed('accounts/avatars/999/999/999/original/orphan0000000000.jpg', 'orphan', { contentType: 'image/jpeg' });
    await instance.seed('media_attachments/files/000/000/001/original/orphan0000000001.png', 'orphan', { contentType: 'image/png' });

    config = await instance.writeConfig();
  });

  after(() => instance.close());

  test('a dry run reports what it would copy and writes nothing', async () => {
    const result = await runCli(['sync', '--config', config, '--dry-run', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await instance.destinationKeys(), []);
    assert.equal(jobSummary(result.stdout, 'accounts').copied, 5);
    assert.equal(jobSummary(result.stdout, 'media_attachments').copied, 5);
    // The avatar 3.1.4 never moved: the log says what a real run would do, not that it was done.
    const movedLines = result.stderr.split('\n').filter((line) => line.includes('found under the other cache/ variant'));
    assert.equal(movedLines.length, 1, result.stderr);
    assert.match(movedLines[0]!, /would be written where Mastodon expects it/);
  });

  test('a dry run whose [source] holds none of the referenced objects (a wrong prefix) fails too, naming what to check: it is how a config is tried', async () => {
    const wrongPrefix = await instance.writeConfig(
      { source: s3Section(instance.sourceServer.endpoint, sourceBucket, { prefix: 'elsewhere' }) },
      'wrong-prefix.ini',
    );
    const result = await runCli(['sync', 'accounts', '--config', wrongPrefix, '--dry-run', '--no-state', '--json']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(jobSummary(result.stdout, 'accounts').keys, 6);
    assert.equal(
      result.stderr.trim().split('\n').at(-1),
      `mastodon-s3-sync: [source] s3://${sourceBucket}/elsewhere at ${instance.sourceServer.endpoint} holds none of the 6 objects the database references: check its bucket and prefix (Mastodon's S3_KEY_PREFIX); nothing was recorded as missing`,
    );
    // The right [source] finds them: no warning.
    const right = await runCli(['sync', 'accounts', '--config', config, '--dry-run', '--no-state', '--json']);
    assert.doesNotMatch(right.stderr, /holds none of/);
  });

  test('in a terminal, the bars fit 80 columns and a dry run\'s say what would be copied, not that it was', async () => {
    const result = await runCli(['sync', 'accounts', '--config', config, '--dry-run', '--no-state'], { terminal: true });
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(await instance.destinationKeys(), []);
    // The pseudo-terminal gives no size: cli-progress takes 80 columns, and the terminal cuts what is longer.
    // A redraw moves the cursor with an escape rather than a \r: each escape ends a frame, or two frames would read as one line.
    const screen = result.stdout.replaceAll(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n');
    const bar = screen.split(/[\r\n]/).filter((line) => line.startsWith('accounts |')).at(-1) ?? '';
    assert.match(bar, /^accounts \|█+\| 100% 6\/6 \| 5 would copy \(60 B\), 1 missing$/, result.stdout);
    assert.ok(bar.length < 80, bar);
  });

  test('the first run copies exactly the referenced keys, bytes and headers', async () => {
    const result = await runCli(['sync', 'accounts', 'media_attachments', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await instance.destinationKeys(), [...expected.keys()].sort());
    for (const [key, want] of expected) {
      const object = await instance.destinationObject(key);
      assert.ok(object, key);
      assert.equal(object.body.toString(), want.body, key);
      assert.equal(object.contentType, want.contentType, key);
      assert.equal(object.cacheControl, want.cacheControl, key);
    }
    const accounts = jobSummary(result.stdout, 'accounts');
    assert.deepEqual(
      { rows: accounts.rows, keys: accounts.keys, copied: accounts.copied, skipped: accounts.skipped, missing: accounts.missing, failed: accounts.failed },
      { rows: 4, keys: 6, copied: 5, skipped: 0, missing: 1, failed: 0 },
    );
    const media = jobSummary(result.stdout, 'media_attachments');
    assert.deepEqual({ keys: media.keys, copied: media.copied, missing: media.missing }, { keys: 5, copied: 5, missing: 0 });
    assert.match(result.stderr, /accounts\/avatars\/000\/000\/777\/original\/gonegonegonegone\.jpg/);
  });

  test('a second run copies nothing', async () => {
    const result = await runCli(['sync', 'accounts', 'media_attachments', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jobSummary(result.stdout, 'accounts').copied, 0);
    assert.equal(jobSummary(result.stdout, 'accounts').skipped, 5);
    assert.equal(jobSummary(result.stdout, 'media_attachments').copied, 0);
    assert.equal(jobSummary(result.stdout, 'media_attachments').skipped, 5);
  });

  test('a reader that has gone (sync | true) changes neither the exit code nor the one-line stderr', async () => {
    const result = await runCliPiped(['sync', 'accounts', '--config', config], 'true');
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /EPIPE|\n\s+at /);
  });

  test('Ctrl-C while a storage check hangs ends the run within the grace period, exit 130', async () => {
    // An endpoint that accepts connections and never answers: the check would wait for [sync] timeout_s (120 s).
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const hanging = await instance.writeConfig({ source: s3Section(endpoint, 'old-media') }, 'hanging.ini');
      const sync = startCli(['sync', 'accounts', '--config', hanging, '--no-state', '--grace-period', '2']);
      while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      // The check is under way; the run's Ctrl-C handler comes once the database is open, a moment later.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const signalled = Date.now();
      sync.child.kill('SIGINT');
      const result = await sync.result;
      assert.equal(result.code, 130, result.stderr);
      assert.ok(Date.now() - signalled < 10_000, `took ${Date.now() - signalled} ms`);
      assert.doesNotMatch(result.stderr, /cannot reach|\n\s+at /);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('an object whose size differs at the destination is copied again by sync --inventory', async () => {
    const key = 'accounts/headers/000/012/345/original/h1h2h3h4h5h6h7h8.jpeg';
    const { putTestObject } = await import('../helpers/s3-server.js');
    await putTestObject(instance.destination, 'new-media', key, 'truncated', { contentType: 'image/jpeg' });
    // A plain re-run trusts the state file; --inventory lists the destination and checks it against the file.
    const result = await runCli(['sync', 'accounts', '--config', config, '--json', '--inventory']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jobSummary(result.stdout, 'accounts').copied, 1);
    assert.equal((await instance.destinationObject(key))?.body.toString(), 'JPEG-header');
  });

  test('keys prints every referenced key without touching storage', async () => {
    const result = await runCli(['keys', 'accounts', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), [
      'accounts/avatars/000/000/777/original/gonegonegonegone.jpg',
      'accounts/avatars/000/012/345/original/a1b2c3d4e5f60718.gif',
      'accounts/avatars/000/012/345/static/a1b2c3d4e5f60718.png',
      'accounts/headers/000/012/345/original/h1h2h3h4h5h6h7h8.jpeg',
      'cache/accounts/avatars/109/283/929/999/999/999/original/r1r2r3r4r5r6r7r8.png',
      'cache/accounts/avatars/110/000/000/000/000/001/original/m1m2m3m4m5m6m7m8.jpg',
    ]);
  });

  test('keys needs only [database]', async () => {
    const databaseOnly = await instance.writeConfig({ source: null, destination: null }, 'database-only.ini');
    const result = await runCli(['keys', 'media_attachments', '--config', databaseOnly]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 5);
  });

  test('--limit caps the rows of each job', async () => {
    const result = await runCli(['keys', 'accounts', '--config', config, '--limit', '1']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['accounts/avatars/000/000/777/original/gonegonegonegone.jpg']);
  });
});
