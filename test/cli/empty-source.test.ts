/**
 * A [source] that holds none of the objects the rows reference: a disk not mounted at its mount point (same path,
 * same source in the state file), a bucket with the wrong prefix. The run fails and records no key as missing, so
 * that once the disk is mounted a plain sync copies everything; a source that lost a few objects is an instance's
 * ordinary life, and those stay settled.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { putTestObject } from '../helpers/s3-server.js';
import { createTestInstance, destinationBucket, insertImages, jobSummary, s3Section, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

describe('sync from a [source] that holds none of the referenced objects', () => {
  let instance: TestInstance;
  const objects = new Map<string, Buffer>();

  before(async () => {
    instance = await createTestInstance();
    for (const [key, body] of await insertImages(instance, 500_000, 3)) objects.set(key, body);
  });
  after(() => instance.close());

  const lastLine = (stderr: string): string | undefined => stderr.trim().split('\n').at(-1);
  const everyKey = (): string[] => [...objects.keys()].sort();

  test('a directory whose disk is not mounted: exit 2 and one line, nothing recorded; once mounted, a plain sync copies every object', async () => {
    const mountPoint = path.join(instance.directory, 'mnt', 'system');
    await mkdir(mountPoint, { recursive: true });
    const destination = await mkdtemp(path.join(instance.directory, 'from-unmounted-'));
    const config = await instance.writeConfig({ source: { type: 'fs', path: mountPoint }, destination: { type: 'fs', path: destination } }, 'unmounted.ini');
    const line = `mastodon-s3-sync: [source] directory ${mountPoint} holds none of the 6 objects the database references: "path" must be Mastodon's public/system (PAPERCLIP_ROOT_PATH) and its disk mounted; nothing was recorded as missing`;

    const dryRun = await runCli(['sync', '--config', config, '--dry-run']);
    assert.equal(dryRun.code, 2, dryRun.stderr);
    assert.equal(lastLine(dryRun.stderr), line);

    const unmounted = await runCli(['sync', '--config', config, '--json']);
    assert.equal(unmounted.code, 2, unmounted.stderr);
    assert.deepEqual([jobSummary(unmounted.stdout, 'media_attachments').missing, jobSummary(unmounted.stdout, 'media_attachments').absentStyle], [3, 3]);
    assert.equal(lastLine(unmounted.stderr), line);
    const report = await runCli(['report', '--config', config]);
    assert.doesNotMatch(report.stdout, /^missing /m, report.stdout);
    // The run is not one a `--since last` may start from: the rows it read were not done.
    const since = await runCli(['sync', '--config', config, '--since', 'last']);
    assert.equal(since.code, 2, since.stderr);
    assert.match(lastLine(since.stderr) ?? '', /records no completed sync of /);

    for (const [key, body] of objects) {
      await mkdir(path.dirname(path.join(mountPoint, key)), { recursive: true });
      await writeFile(path.join(mountPoint, key), body);
    }
    const mounted = await runCli(['sync', '--config', config, '--json']);
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.equal(jobSummary(mounted.stdout, 'media_attachments').copied, objects.size);
    assert.doesNotMatch(mounted.stderr, /holds none/);
    assert.deepEqual((await readdir(destination, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => path.relative(destination, path.join(entry.parentPath, entry.name))).sort(), everyKey());
  });

  test('an S3 [source] with a wrong prefix: exit 2 and one line, nothing recorded; once the objects are there, a plain sync copies every one', async () => {
    const config = await instance.writeConfig({ source: s3Section(instance.sourceServer.endpoint, sourceBucket, { prefix: 'restored' }) }, 'wrong-prefix.ini');
    // Copied by some earlier tool: skipped since the destination has it, which says nothing of [source].
    const [earlier, earlierBody] = [...objects][0]!;
    await putTestObject(instance.destination, destinationBucket, earlier, earlierBody, { contentType: 'image/png' });

    const empty = await runCli(['sync', '--config', config, '--json']);
    assert.equal(empty.code, 2, empty.stderr);
    assert.equal(
      lastLine(empty.stderr),
      `mastodon-s3-sync: [source] s3://${sourceBucket}/restored at ${instance.sourceServer.endpoint} holds none of the 5 objects the database references: check its bucket and prefix (Mastodon's S3_KEY_PREFIX); nothing was recorded as missing`,
    );
    assert.deepEqual(await instance.destinationKeys(), [earlier]);

    for (const [key, body] of objects) await instance.seed(`restored/${key}`, body, { contentType: 'image/png' });
    const restored = await runCli(['sync', '--config', config, '--json']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual([jobSummary(restored.stdout, 'media_attachments').copied, jobSummary(restored.stdout, 'media_attachments').skipped], [objects.size - 1, 1]);
    assert.deepEqual(await instance.destinationKeys(), everyKey());
  });

  test('a [source] that lost a few objects: they are missing and settled, exit 0, and the next run asks no storage about them', async () => {
    const lost = [...objects.keys()].filter((key) => key.includes('/500/001/'));
    assert.equal(lost.length, 2);
    const source = await mkdtemp(path.join(instance.directory, 'lost-a-few-'));
    for (const [key, body] of objects) {
      if (lost.includes(key)) continue;
      await mkdir(path.dirname(path.join(source, key)), { recursive: true });
      await writeFile(path.join(source, key), body);
    }
    const config = await instance.writeConfig({ source: { type: 'fs', path: source }, destination: { type: 'fs', path: await mkdtemp(path.join(instance.directory, 'to-')) } }, 'lost-a-few.ini');

    const first = await runCli(['sync', '--config', config, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const summary = jobSummary(first.stdout, 'media_attachments');
    assert.deepEqual([summary.copied, summary.missing, summary.absentStyle], [4, 1, 1]);
    assert.doesNotMatch(first.stderr, /holds none/);

    const again = await runCli(['sync', '--config', config, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([jobSummary(again.stdout, 'media_attachments').missing, jobSummary(again.stdout, 'media_attachments').copied], [1, 0]);
    assert.match(again.stderr, /6 objects settled by the state file/);
  });
});
