import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { createImportsTable, insertAccount, insertBackup, insertCustomEmoji, insertMediaAttachment, insertPreviewCard, insertPreviewCardProvider, insertRow, insertSiteUpload } from '../helpers/postgres.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, s3Section, destinationBucket, jobSummary, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

/** Every key the fixture rows reference, with the bytes seeded for it. */
const objects: Record<string, string> = {
  'custom_emojis/images/000/000/042/original/e1e2e3e4e5e6e7e8.gif': 'emoji-gif',
  'custom_emojis/images/000/000/042/static/e1e2e3e4e5e6e7e8.png': 'emoji-static',
  'cache/custom_emojis/images/000/000/043/original/r1r2r3r4r5r6r7r8.png': 'remote-emoji',
  'cache/custom_emojis/images/000/000/043/static/r1r2r3r4r5r6r7r8.png': 'remote-emoji-static',
  'cache/preview_cards/images/000/000/007/original/p1p2p3p4p5p6p7p8.jpg': 'card',
  'preview_cards/images/000/000/008/original/old0old0old0old0.png': 'old-card',
  'site_uploads/files/000/000/001/original/t1t2t3t4t5t6t7t8.png': 'thumbnail',
  'site_uploads/files/000/000/001/@1x/t1t2t3t4t5t6t7t8.png': 'thumbnail-1x',
  'site_uploads/files/000/000/001/@2x/t1t2t3t4t5t6t7t8.png': 'thumbnail-2x',
  'site_uploads/files/000/000/002/original/f1f2f3f4f5f6f7f8.ico': 'favicon',
  'site_uploads/files/000/000/002/16/f1f2f3f4f5f6f7f8.png': 'favicon-16',
  'site_uploads/files/000/000/002/32/f1f2f3f4f5f6f7f8.png': 'favicon-32',
  'site_uploads/files/000/000/002/48/f1f2f3f4f5f6f7f8.png': 'favicon-48',
  'site_uploads/files/000/000/003/original/mascot0000000000.svg': 'mascot',
  'backups/dumps/000/000/012/original/archive-20240101120000-0123456789abcdef0123456789abcdef.zip': 'backup-zip',
  'preview_card_providers/icons/000/000/005/original/i1i2i3i4i5i6i7i8.png': 'provider-icon',
  'preview_card_providers/icons/000/000/005/static/i1i2i3i4i5i6i7i8.png': 'provider-static',
  'imports/data/000/000/004/original/following accounts ü.csv': 'import-csv',
  'media_attachments/files/108/000/000/000/000/001/original/s1s2s3s4s5s6s7s8.png': 'suspended-media',
  'media_attachments/files/108/000/000/000/000/001/small/s1s2s3s4s5s6s7s8.png': 'suspended-small',
};

const contentTypeOf = (key: string): string =>
  ({ gif: 'image/gif', png: 'image/png', jpg: 'image/jpeg', ico: 'image/x-icon', svg: 'image/svg+xml', zip: 'application/zip', csv: 'text/csv' })[key.split('.').pop()!] ?? 'application/octet-stream';

async function seedRows(instance: TestInstance): Promise<void> {
  const db = instance.database.client;
  await insertCustomEmoji(db, { id: 42, image_file_name: 'e1e2e3e4e5e6e7e8.gif', image_content_type: 'image/gif' });
  await insertCustomEmoji(db, { id: 43, domain: 'remote.example', image_file_name: 'r1r2r3r4r5r6r7r8.png', image_content_type: 'image/png', image_storage_schema_version: 1 });
  await insertCustomEmoji(db, { id: 44, image_file_name: null });
  await insertPreviewCard(db, { id: 7, image_file_name: 'p1p2p3p4p5p6p7p8.jpg', image_content_type: 'image/jpeg', image_storage_schema_version: 1 });
  await insertPreviewCard(db, { id: 8, image_file_name: 'old0old0old0old0.png', image_content_type: 'image/png' });
  await insertSiteUpload(db, { id: 1, var: 'thumbnail', file_file_name: 't1t2t3t4t5t6t7t8.png', file_content_type: 'image/png' });
  await insertSiteUpload(db, { id: 2, var: 'favicon', file_file_name: 'f1f2f3f4f5f6f7f8.ico', file_content_type: 'image/x-icon' });
  await insertSiteUpload(db, { id: 3, var: 'mascot', file_file_name: 'mascot0000000000.svg', file_content_type: 'image/svg+xml' });
  await insertBackup(db, { id: 12, dump_file_name: 'archive-20240101120000-0123456789abcdef0123456789abcdef.zip', dump_content_type: 'application/zip' });
  await insertPreviewCardProvider(db, { id: 5, icon_file_name: 'i1i2i3i4i5i6i7i8.png', icon_content_type: 'image/png' });
  await createImportsTable(db);
  await insertRow(db, 'imports', { id: 4, type: 0, account_id: 1, data_file_name: 'following accounts ü.csv', data_content_type: 'text/csv', created_at: '2020-01-01', updated_at: '2020-01-01' });
  const suspended = await insertAccount(db, { id: '500', suspended_at: '2024-01-01' });
  await insertMediaAttachment(db, { id: '108000000000000001', account_id: suspended, file_file_name: 's1s2s3s4s5s6s7s8.png', file_content_type: 'image/png' });
}

/** PUTs of Mastodon objects into `bucket`, leaving out the destination check's probe object. */
function objectPuts(proxy: S3Proxy, bucket: string): S3Proxy['requests'] {
  return proxy.requests.filter((request) => request.method === 'PUT' && request.path.startsWith(`/${bucket}/`) && !request.path.includes('.mastodon-s3-sync-write-check'));
}

describe('every job, ACLs, and fs storages', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;

  before(async () => {
    instance = await createTestInstance();
    proxy = await startS3Proxy(instance.destinationServer.endpoint);
    await seedRows(instance);
    for (const [key, body] of Object.entries(objects)) await instance.seed(key, body, { contentType: contentTypeOf(key) });
    await instance.seed('site_uploads/files/000/000/099/original/orphan0000000000.png', 'orphan');
  });
  after(async () => {
    await proxy.close();
    await instance.close();
  });

  test('S3 to S3: every job copies its keys, with the ACL Mastodon would set', async () => {
    const config = await instance.writeConfig({
      destination: s3Section(proxy.endpoint, destinationBucket),
    });
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await instance.destinationKeys(), Object.keys(objects).sort());
    for (const [key, body] of Object.entries(objects)) {
      const object = await instance.destinationObject(key);
      assert.equal(object?.body.toString(), body, key);
      assert.equal(object?.contentType, contentTypeOf(key), key);
    }
    for (const job of ['custom_emojis', 'preview_cards', 'site_uploads', 'backups', 'preview_card_providers', 'imports']) {
      assert.equal(jobSummary(result.stdout, job).failed, 0, job);
    }
    assert.equal(jobSummary(result.stdout, 'site_uploads').keys, 8);

    const aclOf = new Map(objectPuts(proxy, destinationBucket).map((request) => [request.path.replace(`/${destinationBucket}/`, ''), request.headers['x-amz-acl']]));
    assert.equal(aclOf.get('backups/dumps/000/000/012/original/archive-20240101120000-0123456789abcdef0123456789abcdef.zip'), 'private');
    assert.equal(aclOf.get('media_attachments/files/108/000/000/000/000/001/original/s1s2s3s4s5s6s7s8.png'), 'private');
    assert.equal(aclOf.get('media_attachments/files/108/000/000/000/000/001/small/s1s2s3s4s5s6s7s8.png'), 'private');
    assert.equal(aclOf.get('custom_emojis/images/000/000/042/original/e1e2e3e4e5e6e7e8.gif'), 'public-read');
    assert.equal(aclOf.size, Object.keys(objects).length);
  });

  test('acl = none sends no ACL header at all (R2)', async () => {
    proxy.requests.length = 0;
    const config = await instance.writeConfig({
      destination: s3Section(proxy.endpoint, 'acl-none'),
      sync: { acl: 'none' },
    });
    const { createTestBucket } = await import('../helpers/s3-server.js');
    await createTestBucket(instance.destination, 'acl-none');
    const result = await runCli(['sync', 'backups', 'custom_emojis', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    const puts = objectPuts(proxy, 'acl-none');
    assert.equal(puts.length, 5, puts.map((put) => put.path).join(', '));
    for (const put of puts) assert.equal(put.headers['x-amz-acl'], undefined, put.path);
  });

  test('same endpoint and credentials: server-side CopyObject, metadata and ACL passed explicitly', async () => {
    const sourceProxy = await startS3Proxy(instance.sourceServer.endpoint);
    try {
      const { createTestBucket, getTestObject } = await import('../helpers/s3-server.js');
      await createTestBucket(instance.source, 'same-server');
      const sameServer = (bucket: string): Record<string, string> => (s3Section(sourceProxy.endpoint, bucket));
      const config = await instance.writeConfig({ source: sameServer('old-media'), destination: sameServer('same-server') }, 'same-server.ini');
      const result = await runCli(['sync', 'backups', 'custom_emojis', '--config', config, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const copies = sourceProxy.requests.filter((request) => request.method === 'PUT' && request.headers['x-amz-copy-source'] !== undefined);
      assert.equal(copies.length, 5);
      assert.equal(sourceProxy.requests.filter((request) => request.method === 'GET' && /^\/old-media\/./.test(request.path)).length, 0, 'no object bytes went through the client');
      const backup = copies.find((request) => request.path.includes('/backups/'));
      assert.equal(backup?.headers['x-amz-acl'], 'private');
      const emoji = await getTestObject(instance.source, 'same-server', 'custom_emojis/images/000/000/042/static/e1e2e3e4e5e6e7e8.png');
      assert.equal(emoji?.body.toString(), 'emoji-static');
      assert.equal(emoji?.contentType, 'image/png');
      assert.equal(emoji?.cacheControl, 'public, max-age=315576000, immutable');
    } finally {
      await sourceProxy.close();
    }
  });

  test("the next job's objects are copied while the job before still has a transfer in flight", async () => {
    const heldKey = 'custom_emojis/images/000/000/042/original/e1e2e3e4e5e6e7e8.gif';
    const laterJobsKey = 'backups/dumps/000/000/012/original/archive-20240101120000-0123456789abcdef0123456789abcdef.zip';
    const sourceProxy = await startS3Proxy(instance.sourceServer.endpoint);
    try {
      const { createTestBucket } = await import('../helpers/s3-server.js');
      await createTestBucket(instance.destination, 'no-barrier');
      proxy.requests.length = 0;
      // The emoji's GET waits until the backup (a later job) has reached the destination; 10 s at most,
      // so that a run that waits for each job to drain before the next one fails instead of hanging.
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
        setTimeout(resolve, 10_000).unref();
      });
      // The destination proxy only watches for the backup's PUT; it forwards every request.
      proxy.setFaults({
        choose: (request) => {
          if (request.method === 'PUT' && request.path.endsWith(laterJobsKey)) release();
          return undefined;
        },
      });
      sourceProxy.setFaults({ choose: (request) => (request.method === 'GET' && request.path.endsWith(heldKey) ? { until: released } : undefined) });
      const config = await instance.writeConfig(
        {
          source: s3Section(sourceProxy.endpoint, sourceBucket),
          destination: s3Section(proxy.endpoint, 'no-barrier'),
        },
        'no-barrier.ini',
      );
      const result = await runCli(['sync', 'custom_emojis', 'backups', '--config', config, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const order = objectPuts(proxy, 'no-barrier').map((put) => put.path.replace('/no-barrier/', ''));
      assert.equal(order.length, 5, order.join(', '));
      assert.ok(order.indexOf(laterJobsKey) < order.indexOf(heldKey), `backups waited for custom_emojis to drain: ${order.join(', ')}`);
      const { getTestObject } = await import('../helpers/s3-server.js');
      assert.equal((await getTestObject(instance.destination, 'no-barrier', heldKey))?.body.toString(), 'emoji-gif');
      assert.equal(jobSummary(result.stdout, 'custom_emojis').copied, 4);
      assert.equal(jobSummary(result.stdout, 'backups').copied, 1);
    } finally {
      proxy.setFaults(undefined);
      await sourceProxy.close();
    }
  });

  test('S3 to a directory, then that directory back to S3', async () => {
    const system = path.join(instance.directory, 'public', 'system');
    await mkdir(system, { recursive: true });
    const toDisk = await instance.writeConfig({ destination: { type: 'fs', path: system } }, 'to-disk.ini');
    const first = await runCli(['sync', '--config', toDisk, '--json']);
    assert.equal(first.code, 0, first.stderr);
    for (const [key, body] of Object.entries(objects)) assert.equal(await readFile(path.join(system, key), 'utf8'), body, key);

    const { createTestBucket, listTestKeys, getTestObject } = await import('../helpers/s3-server.js');
    await createTestBucket(instance.destination, 'from-disk');
    const fromDisk = await instance.writeConfig(
      {
        source: { type: 'fs', path: system },
        destination: s3Section(instance.destinationServer.endpoint, 'from-disk'),
      },
      'from-disk.ini',
    );
    const second = await runCli(['sync', '--config', fromDisk, '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await listTestKeys(instance.destination, 'from-disk'), Object.keys(objects).sort());
    const emoji = await getTestObject(instance.destination, 'from-disk', 'custom_emojis/images/000/000/042/original/e1e2e3e4e5e6e7e8.gif');
    assert.equal(emoji?.contentType, 'image/gif', 'a directory stores no type: it comes from the extension');
    assert.equal(emoji?.cacheControl, 'public, max-age=315576000, immutable');

    const again = await runCli(['sync', '--config', toDisk, '--json']);
    assert.equal(jobSummary(again.stdout, 'site_uploads').copied, 0);
    assert.equal(jobSummary(again.stdout, 'site_uploads').skipped, 8);
  });

  test('a file changed on disk is detected by its size and copied again by sync --inventory', async () => {
    const system = path.join(instance.directory, 'public', 'system');
    const key = 'preview_cards/images/000/000/008/original/old0old0old0old0.png';
    await writeFile(path.join(system, key), 'x');
    const toDisk = await instance.writeConfig({ destination: { type: 'fs', path: system } }, 'to-disk.ini');
    // A plain re-run trusts the state file; --inventory lists the destination and checks it against the file.
    const result = await runCli(['sync', 'preview_cards', '--config', toDisk, '--json', '--inventory']);
    assert.equal(jobSummary(result.stdout, 'preview_cards').copied, 1);
    assert.equal(await readFile(path.join(system, key), 'utf8'), 'old-card');
  });
});
