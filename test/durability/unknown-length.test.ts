/**
 * Some S3-compatible gateways and proxies answer a GET in chunked transfer encoding, without
 * Content-Length. Such objects are copied all the same, to a bucket and to a directory; a body
 * that breaks mid-way fails its try (another try follows), and one that breaks every time fails
 * the object, leaving nothing half-written. A HEAD answered without Content-Length tells no size:
 * it is never taken for size 0.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import type { FaultPlan, RecordedRequest, Reshaping } from '../helpers/s3-proxy.js';
import { createTestBucket, getTestObject, listTestKeys } from '../helpers/s3-server.js';
import { destinationBucket, jobSummary, s3Section, sourceBucket } from '../helpers/test-instance.js';
import { createDurableInstance, perObjectRequests, type DurableInstance } from './durable-instance.js';

const mebibyte = 1024 * 1024;
const mastodonCacheControl = 'public, max-age=315576000, immutable';

const isObjectGet = (request: RecordedRequest): boolean => request.method === 'GET' && perObjectRequests([request]).length === 1;
const keyOf = (request: RecordedRequest): string => request.path.slice(sourceBucket.length + 2);

/** Every GET of an object answered chunked; `cut(key, try)` says which of them break half-way. */
function chunkedGets(cut: (key: string, attempt: number) => boolean = () => false): FaultPlan {
  const tries = new Map<string, number>();
  return {
    choose(request): Reshaping | undefined {
      if (!isObjectGet(request)) return undefined;
      const key = keyOf(request);
      const attempt = (tries.get(key) ?? 0) + 1;
      tries.set(key, attempt);
      return cut(key, attempt) ? 'chunked-cut' : 'chunked';
    },
  };
}

/** Every file under `directory`, as keys relative to it, sorted. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('a source that answers GETs chunked, without Content-Length', () => {
  let instance: DurableInstance;
  let keys: string[];
  let totalBytes: number;
  /** Larger than one 5 MB part: an unknown length goes multipart too. */
  let largeKey: string;

  before(async () => {
    instance = await createDurableInstance({ rows: 5, size: 8192, large: [12 * mebibyte] });
    keys = [...instance.expected.keys()].sort();
    totalBytes = [...instance.expected.values()].reduce((sum, body) => sum + body.length, 0);
    largeKey = keys.find((key) => key.endsWith('.mp3'))!;
  });
  after(() => instance.close());

  test('S3 to S3: every object arrives with its bytes, type, Cache-Control and ACL; a re-run and verify agree', async () => {
    const config = await instance.proxiedConfig({}, 'chunked.ini');
    const writesFrom = instance.destinationProxy.requests.length;
    instance.sourceProxy.setFaults(chunkedGets());
    const result = await runCli(['sync', '--config', config, '--json']);
    instance.sourceProxy.setFaults(undefined);

    assert.equal(result.code, 0, result.stderr);
    const summary = jobSummary(result.stdout, 'media_attachments');
    assert.deepEqual({ copied: summary.copied, failed: summary.failed, bytes: summary.bytes }, { copied: keys.length, failed: 0, bytes: totalBytes });
    assert.equal(instance.sourceProxy.faults.filter((fault) => fault === 'chunked').length, keys.length, 'every object came chunked');
    await instance.assertDestinationComplete();
    for (const key of keys) {
      const object = await instance.destinationObject(key);
      assert.equal(object?.contentType, key.endsWith('.mp3') ? 'audio/mpeg' : 'image/jpeg', key);
      assert.equal(object?.cacheControl, mastodonCacheControl, key);
    }
    // The request that creates each object (a PUT, or the multipart upload's POST ?uploads) carries the run's ACL.
    const creations = instance.destinationProxy.requests
      .slice(writesFrom)
      .filter((request) => perObjectRequests([request]).length === 1 && (request.method === 'PUT' ? !request.query.includes('partNumber') : /(^|&)uploads(=|&|$)/.test(request.query)));
    assert.deepEqual(creations.map((request) => request.path.slice(destinationBucket.length + 2)).sort(), keys);
    for (const request of creations) assert.equal(request.headers['x-amz-acl'], 'public-read', request.path);

    // The state file holds the sizes that came: a re-run checked against a listing of the destination finds nothing to do.
    const rerun = await runCli(['sync', '--config', config, '--json', '--inventory']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(
      { copied: jobSummary(rerun.stdout, 'media_attachments').copied, skipped: jobSummary(rerun.stdout, 'media_attachments').skipped },
      { copied: 0, skipped: keys.length },
    );
    const verify = await runCli(['verify', 'media_attachments', '--config', config]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  test('S3 to a directory: a body broken half-way is tried again; one that breaks every time fails alone and leaves no file', async () => {
    const directory = path.join(instance.directory, 'chunked-public-system');
    await mkdir(directory);
    const config = await instance.writeConfig({ source: instance.proxiedSource(), destination: { type: 'fs', path: directory } }, 'chunked-fs.ini');
    const broken = keys[0]!;
    instance.sourceProxy.setFaults(chunkedGets((key, attempt) => key === broken || attempt === 1));
    const cutBefore = instance.sourceProxy.faults.filter((fault) => fault === 'chunked-cut').length;
    const result = await runCli(['sync', '--config', config, '--json']);
    instance.sourceProxy.setFaults(undefined);

    assert.equal(result.code, 1, result.stderr);
    const summary = jobSummary(result.stdout, 'media_attachments');
    assert.deepEqual(
      { copied: summary.copied, failed: summary.failed, bytes: summary.bytes },
      { copied: keys.length - 1, failed: 1, bytes: totalBytes - instance.expected.get(broken)!.length },
    );
    assert.match(result.stderr, new RegExp(broken.replaceAll('.', '\\.')));
    // The first try of every object broke half-way, and the broken one's five tries.
    assert.equal(instance.sourceProxy.faults.filter((fault) => fault === 'chunked-cut').length - cutBefore, keys.length - 1 + 5);
    // Exactly the whole files: none for the broken key, no temporary file left behind.
    assert.deepEqual(await filesUnder(directory), keys.filter((key) => key !== broken));
    for (const key of keys.filter((key) => key !== broken)) {
      assert.ok((await readFile(path.join(directory, key))).equals(instance.expected.get(key)!), `${key}: the file's bytes differ from the source's`);
    }
  });

  test('S3 to S3: objects whose body breaks every time fail, the others are copied, and the failed ones are not in the bucket', async () => {
    const prefix = 'broken-run';
    const config = await instance.writeConfig({ source: instance.proxiedSource(), destination: instance.proxiedDestination(prefix) }, 'chunked-broken.ini');
    const smallBroken = keys.find((key) => key !== largeKey)!;
    const broken = new Set([smallBroken, largeKey]);
    instance.sourceProxy.setFaults(chunkedGets((key) => broken.has(key)));
    const result = await runCli(['sync', '--config', config, '--json']);
    instance.sourceProxy.setFaults(undefined);

    assert.equal(result.code, 1, result.stderr);
    const summary = jobSummary(result.stdout, 'media_attachments');
    assert.deepEqual({ copied: summary.copied, failed: summary.failed }, { copied: keys.length - 2, failed: 2 });
    const copied = keys.filter((key) => !broken.has(key));
    assert.deepEqual(await listTestKeys(instance.destination, destinationBucket, `${prefix}/`), copied.map((key) => `${prefix}/${key}`));
    for (const key of copied) {
      const object = await instance.destinationObject(`${prefix}/${key}`);
      assert.ok(object?.body.equals(instance.expected.get(key)!), `${key}: the destination's bytes differ from the source's`);
    }
  });
});

describe('HEAD answers without Content-Length (a gateway that strips it)', () => {
  let instance: DurableInstance;
  let keys: string[];
  let totalBytes: number;
  /** Every HEAD of an object answered without Content-Length. */
  const lengthlessHeads: FaultPlan = { choose: (request) => (request.method === 'HEAD' && perObjectRequests([request]).length === 1 ? 'no-content-length' : undefined) };
  const summaryOf = (stdout: string): { copied?: number; skipped?: number; failed?: number } => {
    const { copied, skipped, failed } = jobSummary(stdout, 'media_attachments');
    return { copied, skipped, failed };
  };

  before(async () => {
    instance = await createDurableInstance({ rows: 3, size: 8192 });
    keys = [...instance.expected.keys()].sort();
    totalBytes = [...instance.expected.values()].reduce((sum, body) => sum + body.length, 0);
    const first = await runCli(['sync', '--config', await instance.proxiedConfig({}, 'first.ini'), '--json']);
    assert.equal(first.code, 0, first.stderr);
    await instance.assertDestinationComplete();
  });
  after(() => instance.close());

  test('objects the destination holds with the same MD5 are skipped, not copied again for want of a size', async () => {
    const config = await instance.proxiedConfig({}, 'lengthless-destination.ini');
    const objectPuts = (): number => perObjectRequests(instance.destinationProxy.requests).filter((request) => request.method === 'PUT').length;
    const putsBefore = objectPuts();
    instance.destinationProxy.setFaults(lengthlessHeads);
    const result = await runCli(['sync', '--config', config, '--json', '--no-state']);
    instance.destinationProxy.setFaults(undefined);

    assert.equal(result.code, 0, result.stderr);
    assert.ok(instance.destinationProxy.faults.includes('no-content-length'), 'the destination answered HEADs without a length');
    assert.deepEqual(summaryOf(result.stdout), { copied: 0, skipped: keys.length, failed: 0 });
    assert.equal(objectPuts() - putsBefore, 0, 'nothing written');
  });

  test('neither side tells a size: an object that changed at the source is copied again, the others are skipped', async () => {
    // Same length, other bytes: only the MD5s tell them apart.
    const changedKey = keys[0]!;
    const changed = randomBytes(instance.expected.get(changedKey)!.length);
    await instance.seed(changedKey, changed, { contentType: 'image/jpeg' });
    instance.expected.set(changedKey, changed);
    const config = await instance.proxiedConfig({}, 'lengthless-both.ini');
    instance.sourceProxy.setFaults(lengthlessHeads);
    instance.destinationProxy.setFaults(lengthlessHeads);
    const result = await runCli(['sync', '--config', config, '--json', '--no-state']);
    instance.sourceProxy.setFaults(undefined);
    instance.destinationProxy.setFaults(undefined);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(summaryOf(result.stdout), { copied: 1, skipped: keys.length - 1, failed: 0 });
    assert.equal(jobSummary(result.stdout, 'media_attachments').bytes, changed.length);
    await instance.assertDestinationComplete();
  });

  test('a server-side copy whose source HEAD tells no size: every object arrives, and the summary counts its bytes', async () => {
    // Source and destination on one endpoint with one key: a server-side copy, unless the size is unknown (CopyObject takes at most 5 GiB).
    const bucket = 'lengthless-same-server';
    await createTestBucket(instance.source, bucket);
    const config = await instance.writeConfig({ source: instance.proxiedSource(), destination: s3Section(instance.sourceProxy.endpoint, bucket) }, 'lengthless-server-side.ini');
    instance.sourceProxy.setFaults(lengthlessHeads);
    const result = await runCli(['sync', '--config', config, '--json']);
    instance.sourceProxy.setFaults(undefined);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(summaryOf(result.stdout), { copied: keys.length, skipped: 0, failed: 0 });
    assert.equal(jobSummary(result.stdout, 'media_attachments').bytes, totalBytes);
    for (const key of keys) {
      const copy = await getTestObject(instance.source, bucket, key);
      assert.ok(copy?.body.equals(instance.expected.get(key)!), `${key}: the copy's bytes differ from the source's`);
    }
  });
});
