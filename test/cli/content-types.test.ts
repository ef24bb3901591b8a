/**
 * Objects uploaded by a tool that set no type are served as `binary/octet-stream` (S3's default) or
 * `application/octet-stream`, which browsers behind Mastodon's `X-Content-Type-Options: nosniff`
 * will not show or play. Their copies get the type their key's extension names; a specific type
 * the source gives is kept as it is. So do objects served with no type at all (a gateway that
 * strips Content-Type).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { insertAccount, insertMediaAttachment } from '../helpers/postgres.js';
import { startS3Proxy, type FaultPlan, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestBucket, getTestObject } from '../helpers/s3-server.js';
import { createTestInstance, jobSummary, s3Section, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

interface Seeded {
  key: string;
  body: string;
  sourceType: string;
  /** What the destination must serve. */
  expected: string;
  /** What it must serve when the source's answers carry no Content-Type: the extension's type. */
  fromExtension: string;
}

const objects: Seeded[] = [
  // S3's own answer for an object uploaded without a type.
  { key: 'accounts/avatars/000/012/345/original/a1b2c3d4e5f60718.png', body: 'PNG-avatar', sourceType: 'binary/octet-stream', expected: 'image/png', fromExtension: 'image/png' },
  { key: 'accounts/headers/000/012/345/original/h1h2h3h4h5h6h7h8.jpeg', body: 'JPEG-header', sourceType: 'image/pjpeg', expected: 'image/pjpeg', fromExtension: 'image/jpeg' },
  // What SDKs and rclone send for a body they know nothing about.
  {
    key: 'media_attachments/files/108/088/727/359/314/311/original/v1v2v3v4v5v6v7v8.mp4',
    body: 'MP4-bytes',
    sourceType: 'application/octet-stream',
    expected: 'video/mp4',
    fromExtension: 'video/mp4',
  },
  { key: 'media_attachments/files/108/088/727/359/314/311/small/v1v2v3v4v5v6v7v8.png', body: 'PNG-poster', sourceType: 'image/png', expected: 'image/png', fromExtension: 'image/png' },
];

describe('Content-Type of copies whose source type is missing or generic', () => {
  let instance: TestInstance;
  /** In front of the source's server, which also holds the bucket of the server-side copy: its requests show the CopyObjects. */
  let sourceProxy: S3Proxy;

  before(async () => {
    instance = await createTestInstance();
    sourceProxy = await startS3Proxy(instance.sourceServer.endpoint);
    const db = instance.database.client;
    await insertAccount(db, { id: '12345', avatar_file_name: 'a1b2c3d4e5f60718.png', avatar_content_type: 'image/png', header_file_name: 'h1h2h3h4h5h6h7h8.jpeg', header_content_type: 'image/jpeg' });
    await insertMediaAttachment(db, { id: '108088727359314311', file_file_name: 'v1v2v3v4v5v6v7v8.mp4', file_content_type: 'video/mp4', type: 2 });
    for (const object of objects) await instance.seed(object.key, object.body, { contentType: object.sourceType });
    await createTestBucket(instance.source, 'same-server-media');
  });
  after(async () => {
    await sourceProxy.close();
    await instance.close();
  });

  /**
   * Syncs with `config`, then checks every copy's bytes and type (through `read`; `expected` by default), and that a re-run and
   * verify find nothing amiss.
   */
  async function syncAndCheck(
    config: string,
    read: (key: string) => ReturnType<TestInstance['destinationObject']>,
    expectedType: (object: Seeded) => string = (object) => object.expected,
  ): Promise<void> {
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jobSummary(result.stdout, 'accounts').copied! + jobSummary(result.stdout, 'media_attachments').copied!, objects.length);
    for (const object of objects) {
      const copy = await read(object.key);
      assert.equal(copy?.body.toString(), object.body, object.key);
      assert.equal(copy?.contentType, expectedType(object), object.key);
    }
    // A type written other than the source's is no difference: a re-run that asks both storages skips everything, verify passes.
    const rerun = await runCli(['sync', '--config', config, '--json', '--no-state']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(jobSummary(rerun.stdout, 'accounts').skipped! + jobSummary(rerun.stdout, 'media_attachments').skipped!, objects.length);
    const verify = await runCli(['verify', 'accounts', 'media_attachments', '--config', config]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  }

  test('the source serves the types the test means', async () => {
    for (const object of objects) assert.equal((await getTestObject(instance.source, sourceBucket, object.key))?.contentType, object.sourceType, object.key);
  });

  test('S3 to S3, streamed: generic types become the extension\'s, a specific one is kept', async () => {
    const config = await instance.writeConfig({}, 'streamed.ini');
    await syncAndCheck(config, (key) => instance.destinationObject(key));
  });

  test('S3 to S3, server-side copy (same endpoint and credentials): the same types', async () => {
    const config = await instance.writeConfig(
      { source: s3Section(sourceProxy.endpoint, sourceBucket), destination: s3Section(sourceProxy.endpoint, 'same-server-media') },
      'server-side.ini',
    );
    const from = sourceProxy.requests.length;
    await syncAndCheck(config, (key) => getTestObject(instance.source, 'same-server-media', key));
    const copies = sourceProxy.requests.slice(from).filter((request) => request.method === 'PUT' && request.headers['x-amz-copy-source'] !== undefined);
    assert.equal(copies.length, objects.length, 'every object was copied server-side');
  });

  describe('the source\'s answers carry no Content-Type (a gateway strips it)', () => {
    /** Object GETs and HEADs of the source's bucket answered without Content-Type. */
    const withoutType: FaultPlan = {
      choose: (request) => ((request.method === 'GET' || request.method === 'HEAD') && request.path.startsWith(`/${sourceBucket}/`) ? 'no-content-type' : undefined),
    };
    const stripped = (): number => sourceProxy.faults.filter((fault) => fault === 'no-content-type').length;
    after(() => sourceProxy.setFaults(undefined));

    test('S3 to S3, streamed: each copy gets its extension\'s type', async () => {
      const config = await instance.writeConfig({ source: s3Section(sourceProxy.endpoint, sourceBucket), destination: s3Section(instance.destinationServer.endpoint, 'untyped-media') }, 'untyped-streamed.ini');
      await createTestBucket(instance.destination, 'untyped-media');
      sourceProxy.setFaults(withoutType);
      const before = stripped();
      await syncAndCheck(config, (key) => getTestObject(instance.destination, 'untyped-media', key), (object) => object.fromExtension);
      assert.ok(stripped() - before >= objects.length, 'every GET came without a type');
    });

    test('S3 to S3, server-side copy: each copy gets its extension\'s type', async () => {
      await createTestBucket(instance.source, 'untyped-same-server');
      const config = await instance.writeConfig(
        { source: s3Section(sourceProxy.endpoint, sourceBucket), destination: s3Section(sourceProxy.endpoint, 'untyped-same-server') },
        'untyped-server-side.ini',
      );
      sourceProxy.setFaults(withoutType);
      const before = stripped();
      await syncAndCheck(config, (key) => getTestObject(instance.source, 'untyped-same-server', key), (object) => object.fromExtension);
      assert.ok(stripped() - before >= objects.length, 'every HEAD came without a type');
    });
  });
});
