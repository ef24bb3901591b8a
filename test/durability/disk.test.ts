import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { jobSummary } from '../helpers/test-instance.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

/**
 * Root ignores permission bits, so a read-only or full destination is a real
 * tmpfs mount (read-only, or 1 MB). Mounting needs CAP_SYS_ADMIN; without it
 * these tests skip.
 */
describe('a destination directory that is read-only or full: one clear line, and nothing half-written', () => {
  let instance: DurableInstance;
  const mounts: string[] = [];
  const rows = 24;

  before(async () => {
    instance = await createDurableInstance({ rows, size: 96 * 1024 });
  });
  after(async () => {
    for (const target of mounts) {
      execFileSync('umount', [target]);
      await rm(target, { recursive: true, force: true });
    }
    await instance.close();
  });

  async function mountTmpfs(t: TestContext, options: string): Promise<string | undefined> {
    const target = await mkdtemp(path.join(tmpdir(), 'mss-durable-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', target], { stdio: 'pipe' });
    } catch (error) {
      await rm(target, { recursive: true, force: true });
      t.skip(`cannot mount tmpfs here: ${String((error as Error).message).split('\n')[0]}`);
      return undefined;
    }
    mounts.push(target);
    return target;
  }

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
    const target = await mountTmpfs(t, 'size=1m,ro');
    if (target === undefined) return;
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target } }, 'read-only.ini');
    const result = await runCli(['sync', '--config', config]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /not writable \(EROFS\): remount it read-write/);
  });

  test('a disk that fills up mid-run stops the run at the first full write, leaves no partial file, and the next run finishes', async (t) => {
    const target = await mountTmpfs(t, 'size=1m');
    if (target === undefined) return;
    const config = await instance.writeConfig({ destination: { type: 'fs', path: target }, sync: { concurrency: 2 } }, 'full.ini');
    const full = await runCli(['sync', '--config', config, '--json']);
    assert.equal(full.code, 2, full.stderr);
    const lastLine = full.stderr.trim().split('\n').at(-1) ?? '';
    assert.match(lastLine, /^mastodon-s3-sync: ENOSPC: no space left on the destination writing .*: stopped the run; free some space and run sync again/);
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
});
