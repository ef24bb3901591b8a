import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, runCliPiped } from '../helpers/cli.js';
import { createScratchDatabase, insertAccount, insertMediaAttachment, insertPreviewCardProvider, serverSettings } from '../helpers/postgres.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { listTestKeys, putTestObject } from '../helpers/s3-server.js';
import { createTestInstance, s3Section, destinationBucket, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

describe('orphans: objects no row references, Mastodon-shaped keys only, never deleted', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  let config: string;

  const referenced = [
    'accounts/avatars/000/012/345/original/a1a2a3a4a5a6a7a8.png',
    'media_attachments/files/000/000/010/original/m1m2m3m4m5m6m7m8.jpeg',
    'media_attachments/files/000/000/010/small/m1m2m3m4m5m6m7m8.jpeg',
    'cache/accounts/avatars/109/283/929/999/999/999/original/r1r2r3r4r5r6r7r8.png',
    // The same remote avatar at its other cache/ variant: where 3.1.4 left it. Not an orphan (the copy reads it).
    'accounts/avatars/109/283/929/999/999/999/original/r1r2r3r4r5r6r7r8.png',
    'preview_card_providers/icons/000/000/007/original/p1p2p3p4p5p6p7p8.png',
  ];
  const orphans = [
    // No such row.
    'accounts/avatars/000/999/999/original/gone0gone0gone00.jpg',
    // The row exists, the file name does not (a replaced avatar whose delete failed).
    'accounts/avatars/000/012/345/original/old0old0old0old0.png',
    // A style this row does not have (a PNG avatar has no static).
    'accounts/avatars/000/012/345/static/a1a2a3a4a5a6a7a8.png',
    'cache/media_attachments/files/110/000/000/000/000/001/original/c1c2c3c4c5c6c7c8.mp4',
    // A class whose table this (4.3+) database no longer has.
    'imports/data/000/000/003/original/follows.csv',
  ];
  const unrecognized = ['export.csv', 'other-app/uploads/x.png', 'accounts/avatars/original/x.png', 'mastodon/accounts/avatars/000/000/001/original/p.png'];

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.sourceServer.endpoint);
    const db = instance.database.client;
    await insertAccount(db, { id: '12345', avatar_file_name: 'a1a2a3a4a5a6a7a8.png', avatar_content_type: 'image/png' });
    await insertAccount(db, {
      id: '109283929999999999',
      domain: 'remote.example',
      avatar_file_name: 'r1r2r3r4r5r6r7r8.png',
      avatar_content_type: 'image/png',
      avatar_storage_schema_version: 1,
    });
    await insertMediaAttachment(db, { id: '10', file_file_name: 'm1m2m3m4m5m6m7m8.jpeg', file_content_type: 'image/jpeg' });
    await insertPreviewCardProvider(db, { id: '7', icon_file_name: 'p1p2p3p4p5p6p7p8.png' });
    for (const key of [...referenced, ...orphans, ...unrecognized]) await instance.seed(key, `bytes of ${key}`);
    config = await instance.writeConfig({
      source: s3Section(proxy.endpoint, sourceBucket),
    });
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  test('--in source lists exactly the orphans, one key a line; counts what is not Mastodon-shaped', async () => {
    const before = await listTestKeys(instance.source, sourceBucket);
    const start = proxy.requests.length;
    const result = await runCli(['orphans', '--in', 'source', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), [...orphans].sort());
    const bytes = orphans.reduce((sum, key) => sum + `bytes of ${key}`.length, 0);
    assert.match(
      result.stderr,
      new RegExp(`: 15 objects, 6 referenced, 5 orphans \\(${bytes} B; accounts 3, media_attachments 1, imports 1\\), 4 not Mastodon-shaped \\(.*; list them with --unrecognized\\)\\. Nothing was deleted\\.`),
    );
    assert.deepEqual(await listTestKeys(instance.source, sourceBucket), before, 'nothing deleted');
    assert.deepEqual(
      proxy.requests.slice(start).filter((request) => request.method !== 'GET' && request.method !== 'HEAD'),
      [],
      'only reads',
    );
  });

  test('--in source needs no [destination] (the bucket Mastodon uses today, before there is one); --in destination without it is one line', async () => {
    const sourceOnly = await instance.writeConfig({ source: s3Section(proxy.endpoint, sourceBucket), destination: null }, 'source-only.ini');
    const result = await runCli(['orphans', '--in', 'source', '--config', sourceOnly]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), [...orphans].sort());
    const destination = await runCli(['orphans', '--in', 'destination', '--config', sourceOnly]);
    assert.equal(destination.code, 2, destination.stderr);
    assert.equal(destination.stderr, 'mastodon-s3-sync: [destination] is missing: add the section to the config file, or list --in source\n');
  });

  test('a reader that has gone (orphans | head) is no error: exit 0, the counts on stderr', async () => {
    const result = await runCliPiped(['orphans', '--in', 'source', '--config', config], 'true');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /: 15 objects, 6 referenced, 5 orphans .*Nothing was deleted\.\n$/);
    assert.doesNotMatch(result.stderr, /EPIPE|cannot write|\n\s+at /);
  });

  test('--output into a directory that does not exist is refused before the storage is listed', async () => {
    const file = `${instance.directory}/no-such-folder/orphans.txt`;
    const start = proxy.requests.length;
    const result = await runCli(['orphans', '--in', 'source', '--config', config, '--output', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `mastodon-s3-sync: cannot write ${file} (ENOENT): check the path and its permissions\n`);
    assert.deepEqual(proxy.requests.slice(start).filter((request) => /list-type=2/.test(request.query) && !/max-keys=1(&|$)/.test(request.query)), [], 'no listing');
  });

  test('--unrecognized --format csv lists both kinds', async () => {
    const result = await runCli(['orphans', '--in', 'source', '--config', config, '--unrecognized', '--format', 'csv']);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout.trim().split('\n');
    assert.equal(rows[0], 'kind,job,key,size');
    assert.deepEqual(
      rows
        .slice(1)
        .map((row) => row.split(',').slice(0, 3).join(','))
        .sort(),
      [
        ...orphans.map((key) => `orphan,${key.replace(/^cache\//, '').split('/')[0]},${key}`),
        ...unrecognized.map((key) => `unrecognized,,${key}`),
      ].sort(),
    );
  });

  test('--output takes its format from the file name, as report does: .jsonl JSON lines, .csv CSV, anything else a key a line', async () => {
    const written = async (name: string): Promise<string[]> => {
      const file = path.join(instance.directory, name);
      const result = await runCli(['orphans', '--in', 'source', '--config', config, '--output', file]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, '');
      return (await readFile(file, 'utf8')).trim().split('\n');
    };
    const jsonl = (await written('orphans.jsonl')).map((line) => (JSON.parse(line) as { key: string }).key);
    assert.deepEqual(jsonl.sort(), [...orphans].sort());
    const csv = await written('orphans.csv');
    assert.equal(csv[0], 'kind,job,key,size');
    assert.equal(csv.length, orphans.length + 1);
    assert.deepEqual((await written('orphans.txt')).sort(), [...orphans].sort());
  });

  test('--in destination after a sync: only what was put there by hand', async () => {
    const sync = await runCli(['sync', '--config', config]);
    assert.equal(sync.code, 0, sync.stderr);
    const stray = 'media_attachments/files/000/000/011/original/stray0stray0stra.png';
    await putTestObject(instance.destination, destinationBucket, stray, 'stray');
    const result = await runCli(['orphans', '--in', 'destination', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
      [{ kind: 'orphan', job: 'media_attachments', key: stray, size: 5 }],
    );
  });

  test('a database without Mastodon\'s tables is refused by every command, before it can call the whole bucket orphans', async () => {
    const empty = await createScratchDatabase();
    try {
      await empty.client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      const wrongDatabase = await instance.writeConfig({ database: { url: empty.url } }, 'wrong-database.ini');
      const destinationBefore = await instance.destinationKeys();
      for (const args of [['orphans', '--in', 'source'], ['verify'], ['sync'], ['keys'], ['sync', 'media_attachments']]) {
        const result = await runCli([...args, '--config', wrongDatabase]);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(result.stdout, '', args.join(' '));
        assert.equal(
          result.stderr.trim(),
          `mastodon-s3-sync: database "${empty.name}" on PostgreSQL at ${serverSettings().host}:${serverSettings().port} has no Mastodon tables (no accounts table) — check [database] name (or the database at the end of url): it is mastodon_production on most instances`,
          args.join(' '),
        );
      }
      assert.deepEqual(await instance.destinationKeys(), destinationBefore, 'nothing written');
    } finally {
      await empty.drop();
    }
  });
});
