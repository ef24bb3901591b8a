import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { jobSummary } from '../helpers/test-instance.js';
import { TmpfsMounts } from '../helpers/tmpfs.js';
import { cleanUp, testQueue } from '../queue/test-redis.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

/**
 * Runs the built CLI bound by permission bits: root runs it without CAP_DAC_OVERRIDE, so that a
 * directory it owns with mode 0555 refuses its writes (EACCES).
 */
function runCliBoundByPermissions(args: string[]): Promise<CliResult> {
  return runCli(args, { launcher: process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] : [] });
}

/** A read-only or full destination is a real tmpfs mount (read-only, or 1 MB); see TmpfsMounts. */
describe('a destination directory that is read-only, full or not ours to write: one clear line, and nothing half-written', () => {
  let instance: DurableInstance;
  const tmpfs = new TmpfsMounts();
  const rows = 24;

  before(async () => {
    instance = await createDurableInstance({ rows, size: 96 * 1024 });
  });
  after(async () => {
    await tmpfs.unmountAll();
    await instance.close();
  });

  async function filesUnder(directory: string, relative = ''): Promise<string[]> {
    const files: string[] = [];
    for (const entry of await readdir(path.join(directory, relative), { withFileTypes: true })) {
      const name = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) files.push(...(await filesUnder(directory, name)));
      else files.push(name);
    }
    return files.sort();
  }

  test('a read-only destination stops the run before any object, naming the fix', async (t) => {
    const target = await tmpfs.mount(t, 'size=1m,ro');
    if (target === undefined) return;
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target } }, 'read-only.ini');
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /not writable \(EROFS\): remount it read-write/);
  });

  test('a disk that fills up mid-run stops the run at the first full write, leaves no partial file, and the next run finishes', async (t) => {
    const target = await tmpfs.mount(t, 'size=1m');
    if (target === undefined) return;
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target }, sync: { concurrency: 2 } }, 'full.ini');
    const full = await runCli(['sync', '--config', config, '--json']);
    assert.equal(full.code, 2, full.stderr);
    const lastLine = full.stderr.trim().split('\n').at(-1) ?? '';
    assert.match(lastLine, /^mastodon-s3-sync: writing to the destination: ENOSPC: no space left on the device writing .*: stopped the run; free some space and run sync again/);
    const onDisk = await filesUnder(target);
    assert.ok(onDisk.length > 0 && onDisk.length < rows * 2, `${onDisk.length} files written before the disk filled`);
    assert.deepEqual(onDisk.filter((file) => path.basename(file).startsWith('.mss-partial-')), [], 'no temporary file left behind');
    for (const file of onDisk) assert.ok((await readFile(path.join(target, file))).equals(instance.expected.get(file)!), `${file} is whole`);

    execFileSync('mount', ['-o', 'remount,size=16m', target]);
    const rerun = await runCli(['sync', '--config', config, '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(jobSummary(rerun.stdout, 'media_attachments').failed, 0);
    assert.deepEqual(await filesUnder(target), [...instance.expected.keys()].sort());
    for (const [key, body] of instance.expected) assert.ok((await readFile(path.join(target, key))).equals(body), key);
  });

  /** A destination whose media_attachments directory this user may not write (its other directories it may). */
  async function deniedDestination(name: string): Promise<{ target: string; denied: string }> {
    const target = await mkdtemp(path.join(tmpdir(), `mss-durable-${name}-`));
    const denied = path.join(target, 'media_attachments');
    await mkdir(denied, { mode: 0o555 });
    await chmod(denied, 0o555);
    return { target, denied };
  }

  const deniedLine = (denied: string, then: string): RegExp =>
    new RegExp(
      `^mastodon-s3-sync: writing to the destination: EACCES: permission denied in ${escape(denied)} writing ${escape(denied)}/files/\\S+: ${then}$`,
    );
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  test('a directory of the destination this user may not write stops the run at the first write, naming it and the fix', async () => {
    const { target, denied } = await deniedDestination('denied');
    try {
      const config = await instance.writeConfig({ destination: { type: 'fs', path: target }, sync: { concurrency: 2 } }, 'denied.ini');
      const result = await runCliBoundByPermissions(['sync', '--config', config, '--json']);
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.match(
        lines.at(-1) ?? '',
        deniedLine(denied, 'stopped the run; fix the ownership or permissions of that directory \\(chown/chmod\\) for the user running mastodon-s3-sync and run sync again \\(what was copied is kept\\)'),
      );
      const refused = lines.filter((line) => line.includes('EACCES')).length;
      assert.ok(refused <= 3, `${refused} lines about EACCES: the transfers in flight at most, then the stop line, not one an object:\n${result.stderr}`);
      assert.deepEqual(await filesUnder(target), [], 'nothing written');
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  // Without the stop, the worker would fail every task and wait for more: fail the test instead.
  test('a worker stops as sync does, at the first write to a directory it may not write', { timeout: 60_000 }, async () => {
    const { target, denied } = await deniedDestination('denied-worker');
    const queue = testQueue('denied');
    try {
      const config = await instance.writeConfig({ destination: { type: 'fs', path: target }, queue: { url: queue.url, prefix: queue.prefix } }, 'denied-worker.ini');
      const enqueued = await runCli(['enqueue', '--config', config]);
      assert.equal(enqueued.code, 0, enqueued.stderr);
      const result = await runCliBoundByPermissions(['worker', '--config', config, '--concurrency', '2']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr.trim().split('\n').at(-1) ?? '',
        deniedLine(denied, 'stopped this worker; fix the ownership or permissions of that directory \\(chown/chmod\\) for the user running mastodon-s3-sync, then enqueue --retry-failed and start the workers again'),
      );
      assert.deepEqual(await filesUnder(target), [], 'nothing written');
    } finally {
      await cleanUp(queue);
      await rm(target, { recursive: true, force: true });
    }
  });
});
