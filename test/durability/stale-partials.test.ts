/**
 * A run killed mid-write (a second Ctrl-C, kill -9, an OOM kill, a power cut) leaves the temporary
 * file of each object it was writing into a directory. The next sync that lists that directory as
 * its destination removes the ones no live write can own, and only those; a directory read as a
 * source, or by a command that writes nothing, is never changed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { jobSummary } from '../helpers/test-instance.js';
import { eventually } from '../queue/test-redis.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

const partialPrefix = '.mss-partial-';
const dayMs = 24 * 60 * 60 * 1000;

/** Every file below `directory` (temporary ones included) with its bytes: what is really on disk. */
async function filesOnDisk(directory: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(path.relative(directory, path.join(entry.parentPath, entry.name)), await readFile(path.join(entry.parentPath, entry.name)));
  }
  return files;
}

const isPartial = (file: string): boolean => path.basename(file).startsWith(partialPrefix);

describe('temporary files a killed run left in a directory destination', () => {
  let instance: DurableInstance;
  let target: string;
  let toDirectory: string;
  const large = 8 * 1024 * 1024;
  let largeKey: string;
  let objectDirectory: string;
  let killedPid: number;
  let killedPartial: string;
  /** Look-alikes planted beside the killed run's file, relative to `target`, and whether the next sync must remove them. */
  const planted = new Map<string, { removed: boolean }>();

  before(async () => {
    instance = await createDurableInstance({ rows: 2, large: [large] });
    target = path.join(instance.directory, 'public-system');
    await mkdir(target);
    toDirectory = await instance.writeConfig({ source: instance.proxiedSource(), destination: { type: 'fs', path: target }, sync: { concurrency: 2 } }, 'to-directory.ini');
    largeKey = [...instance.expected].find(([, body]) => body.length === large)![0];
    objectDirectory = path.dirname(largeKey);
  });
  after(() => instance.close());

  test('kill -9 in the middle of a write leaves its temporary file, named after this host and the killed process', async () => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The source sends half of the large object, then holds the rest: the run is killed with that half on disk.
    instance.sourceProxy.setFaults({
      choose: (request) => (request.method === 'GET' && request.path.endsWith(largeKey) ? { until: released, afterBodyBytes: large / 2 } : undefined),
    });
    const running = startCli(['sync', '--config', toDirectory, '--json']);
    try {
      killedPartial = await eventually(async () => {
        const files = await readdir(path.join(target, objectDirectory)).catch(() => []);
        for (const name of files.filter((file) => file.startsWith(partialPrefix))) {
          const size = (await stat(path.join(target, objectDirectory, name)).catch(() => undefined))?.size;
          if (size === large / 2) return path.join(objectDirectory, name);
        }
        return undefined;
      }, 30_000, 'half of the large object in a temporary file');
      running.child.kill('SIGKILL');
    } finally {
      release();
    }
    const result = await running.result;
    instance.sourceProxy.setFaults(undefined);
    assert.equal(result.signal, 'SIGKILL');
    killedPid = running.child.pid!;
    const host = hostname().replace(/[.]/g, '\\.');
    assert.match(path.basename(killedPartial), new RegExp(`^\\.mss-partial-${host}-${killedPid}-\\d+-[0-9a-f]{12}$`));
    assert.ok(!(await filesOnDisk(target)).has(largeKey), 'the object itself is not there');
  });

  test('a directory read as a source, or by a command that writes nothing, keeps every temporary file', async () => {
    const pidNamespace = /\[(\d+)\]/.exec(await readlink('/proc/self/ns/pid'))![1]!;
    const name = (writer: string): string => path.join(objectDirectory, `${partialPrefix}${writer}${randomBytes(6).toString('hex')}`);
    const plant = async (writer: string, removed: boolean, untouchedMs = 0): Promise<void> => {
      const file = name(writer);
      await writeFile(path.join(target, file), randomBytes(1024));
      const when = new Date(Date.now() - untouchedMs);
      await utimes(path.join(target, file), when, when);
      planted.set(file, { removed });
    };
    // Writers alive or unknown: this test's own process, another host, another pid namespace (a container with this
    // host name), an earlier version's name without a host: all written to a moment ago, so kept.
    await plant(`${hostname()}-${process.pid}-${pidNamespace}-`, false);
    await plant(`other-host.example-${killedPid}-${pidNamespace}-`, false);
    await plant(`${hostname()}-${killedPid}-1-`, false);
    await plant(`${killedPid}-`, false);
    // Untouched for more than a day: no live write leaves its temporary file that long, whoever wrote it.
    await plant(`${killedPid}-`, true, dayMs + 60_000);
    await plant(`other-host.example-${killedPid}-${pidNamespace}-`, true, dayMs + 60_000);
    const before = await filesOnDisk(target);

    const dryRun = await runCli(['sync', '--config', toDirectory, '--dry-run']);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    const verify = await runCli(['verify', '--config', toDirectory]);
    assert.equal(verify.code, 1, `the large object is missing: ${verify.stderr}`);
    const orphans = await runCli(['orphans', '--config', toDirectory, '--in', 'destination']);
    assert.equal(orphans.code, 0, orphans.stderr);

    const fromDirectory = await instance.writeConfig({ source: { type: 'fs', path: target } }, 'from-directory.ini');
    for (const args of [['sync'], ['verify'], ['orphans', '--in', 'source']]) {
      const result = await runCli([...args, '--config', fromDirectory]);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    assert.deepEqual(await filesOnDisk(target), before, 'nothing removed or changed');
  });

  test('the next sync removes the temporary files no live write owns, says so, and leaves the others alone', async () => {
    const result = await runCli(['sync', '--config', toDirectory, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jobSummary(result.stdout, 'media_attachments').failed, 0);

    const onDisk = await filesOnDisk(target);
    const objects = [...onDisk.keys()].filter((file) => !isPartial(file)).sort();
    assert.deepEqual(objects, [...instance.expected.keys()].sort());
    for (const [key, body] of instance.expected) assert.ok(onDisk.get(key)!.equals(body), `${key} is whole and identical to the source's`);
    const kept = [...planted].filter(([, { removed }]) => !removed).map(([file]) => file);
    assert.deepEqual([...onDisk.keys()].filter(isPartial).sort(), kept.sort());

    const removals = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg)
      .filter((message) => message.startsWith('removed '));
    const removedStale = [...planted].filter(([, { removed }]) => removed).map(([file]) => `removed ${path.join(target, file)}, left by an interrupted write (untouched for more than 24 hours)`);
    assert.deepEqual(removals.sort(), [`removed ${path.join(target, killedPartial)}, left by an interrupted write (process ${killedPid} on this host is gone)`, ...removedStale].sort());
  });
});
