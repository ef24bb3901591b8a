/**
 * The many-machines mode end to end: the built CLI's `enqueue`, `worker` and `status` as
 * separate processes against the real Redis (a key prefix a test), a scratch database and two
 * s3rver servers; proxies in front of the destination make transfers hang or fail on purpose.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { QueueInspector } from '../../src/queue/queue-inspector.js';
import type { QueueSettings } from '../../src/queue/queue-settings.js';
import { redisDashboardSource } from '../../src/queue/redis-dashboard-source.js';
import { RedisRunStatus, type RedisJobCounters } from '../../src/queue/redis-run-status.js';
import { taskId } from '../../src/queue/task-id.js';
import { startDashboard } from '../../src/web/index.js';
import { runCli, startCli, type CliResult, type RunningCli } from '../helpers/cli.js';
import { insertMediaAttachment } from '../helpers/postgres.js';
import { startS3Proxy, type RecordedRequest, type S3Proxy } from '../helpers/s3-proxy.js';
import { getTestObject, listTestKeys } from '../helpers/s3-server.js';
import { createTestInstance, destinationBucket, s3Section, type TestInstance } from '../helpers/test-instance.js';
import { cleanUp, eventually, keysOf, testQueue, testRedis, testRedisUrl } from '../queue/test-redis.js';


/**
 * A proxy in front of the destination that holds every object upload until `opensAt` are held at
 * once, then lets them all through, and every later request at once. With `opensAt` one more than a
 * worker's --concurrency, the first uploads cannot go through before a second worker is uploading too.
 */
async function uploadGate(target: string, opensAt: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const held: Array<() => void> = [];
  let open = false;
  const server = http.createServer((request, response) => {
    const forward = (): void => {
      const forwarded = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    };
    if (open || request.method !== 'PUT' || (request.url ?? '').includes('.mastodon-s3-sync-write-check')) return forward();
    request.pause();
    held.push(forward);
    if (held.length < opensAt) return;
    open = true;
    for (const release of held.splice(0)) release();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;

interface EnqueueReport {
  job: string;
  rows: number;
  keys: number;
  enqueued: number;
  alreadyQueued: number;
  state: string;
}

const rows = 30;
const job = 'media_attachments';

describe('enqueue, workers on several processes, status', () => {
  let instance: TestInstance;
  let redis: Redis;
  /** Source key → bytes: every object the database references and the source holds. */
  const expected = new Map<string, Buffer>();
  const missingKey = 'media_attachments/files/000/399/999/original/0000000000000000.jpeg';
  const queues: QueueSettings[] = [];
  const running: RunningCli[] = [];
  const proxies: Array<Pick<S3Proxy, 'close'>> = [];

  before(async () => {
    instance = await createTestInstance();
    redis = testRedis();
    const db = instance.database.client;
    for (let row = 0; row < rows; row += 1) {
      const id = String(300_000 + row);
      const name = `${randomBytes(8).toString('hex')}.jpeg`;
      await insertMediaAttachment(db, { id, file_file_name: name, file_content_type: 'image/jpeg', type: 0 });
      for (const [style, size] of [['original', 32_768], ['small', 8192]] as const) {
        const key = `media_attachments/files/000/${id.slice(0, 3)}/${id.slice(3)}/${style}/${name}`;
        const body = randomBytes(size);
        expected.set(key, body);
        await instance.seed(key, body, { contentType: 'image/jpeg' });
      }
    }
    // Referenced, never uploaded: the original is missing, its small style absent.
    await insertMediaAttachment(db, { id: '399999', file_file_name: '0000000000000000.jpeg', file_content_type: 'image/jpeg', type: 0 });
  });

  afterEach(async () => {
    for (const cli of running.splice(0)) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    for (const settings of queues.splice(0)) {
      await cleanUp(settings);
      assert.deepEqual(await keysOf(redis, settings.prefix), [], 'the test left nothing in Redis');
    }
  });

  after(async () => {
    await redis.quit();
    await instance.close();
  });

  /** A run of its own: a queue prefix, a destination prefix, and a config (pointing at `endpoint` when given). */
  async function newRun(label: string, options: { queue?: Record<string, string | number>; endpoint?: string; sync?: Record<string, string | number> } = {}) {
    const settings = testQueue(label);
    queues.push(settings);
    const destinationPrefix = `${label}-${randomBytes(3).toString('hex')}`;
    const config = (name: string, endpoint = instance.destinationServer.endpoint): Promise<string> =>
      instance.writeConfig(
        {
          destination: s3Section(endpoint, destinationBucket, { prefix: destinationPrefix }),
          sync: { concurrency: 4, ...options.sync },
          queue: { url: settings.url, prefix: settings.prefix, lock_duration_s: 2, ...options.queue },
        },
        `${label}-${name}.ini`,
      );
    const direct = await config('direct');
    const status = new RedisRunStatus(redis, settings.prefix);
    return {
      settings,
      destinationPrefix,
      direct,
      config,
      status,
      worker(configPath: string, extra: string[] = []): RunningCli {
        const cli = startCli(['worker', '--config', configPath, '--concurrency', '4', '--json', ...extra]);
        running.push(cli);
        return cli;
      },
      async enqueue(args: string[] = [], configPath = direct): Promise<{ result: CliResult; reports: EnqueueReport[] }> {
        const result = await runCli(['enqueue', '--config', configPath, '--json', ...args]);
        assert.equal(result.code, 0, result.stderr);
        const reports = lastJson<{ enqueue: EnqueueReport[] }>(result.stdout).enqueue;
        // Every job whose table exists runs; only media_attachments has rows here.
        for (const report of reports) if (report.job !== job) assert.deepEqual([report.rows, report.enqueued], [0, 0], report.job);
        return { result, reports: reports.filter((report) => report.job === job) };
      },
      async finished(timeoutMs = 30_000): Promise<RedisJobCounters> {
        return eventually(async () => (await status.jobs()).find((counters) => counters.job === job && counters.finishedAt !== undefined), timeoutMs, 'every task to have an outcome');
      },
      async destinationKeys(): Promise<string[]> {
        return (await listTestKeys(instance.destination, destinationBucket, `${destinationPrefix}/`)).map((key) => key.slice(destinationPrefix.length + 1));
      },
      async assertDestinationComplete(): Promise<void> {
        assert.deepEqual(await this.destinationKeys(), [...expected.keys()].sort());
        for (const [key, body] of expected) {
          const object = await getTestObject(instance.destination, destinationBucket, `${destinationPrefix}/${key}`);
          assert.ok(object?.body.equals(body), `${key}: the destination's bytes differ from the source's`);
          assert.equal(object?.contentType, 'image/jpeg');
        }
      },
    };
  }

  async function stopped(cli: RunningCli, signal: NodeJS.Signals = 'SIGTERM'): Promise<CliResult> {
    cli.child.kill(signal);
    return cli.result;
  }

  /** A proxy in front of the destination that holds every object upload forever (the write check passes). */
  async function hangingUploads(): Promise<S3Proxy> {
    const proxy = await startS3Proxy(instance.destinationServer.endpoint);
    proxies.push(proxy);
    proxy.setFaults({ choose: (request) => (isObjectUpload(request) ? 'stall' : undefined) });
    return proxy;
  }

  const isObjectUpload = (request: RecordedRequest): boolean => request.method === 'PUT' && !request.path.endsWith('.mastodon-s3-sync-write-check');

  test('one producer and two workers copy exactly the referenced objects, and every machine sees the counts', async () => {
    const run = await newRun('two');
    // One worker holds at most 4 uploads (--concurrency 4): the fifth is the other's, so neither can do all the work alone.
    const gate = await uploadGate(instance.destinationServer.endpoint, 5);
    proxies.push(gate);
    const gated = await run.config('gated', gate.endpoint);
    const workers = [run.worker(gated), run.worker(gated)];
    await eventually(async () => (await run.status.workers()).length === 2, 15_000, 'both workers to report in');

    const { reports } = await run.enqueue();
    assert.deepEqual(reports, [{ job, rows: rows + 1, keys: 2 * rows + 2, enqueued: 2 * rows + 2, alreadyQueued: 0, state: 'enqueued' }]);
    const counters = await run.finished();
    assert.deepEqual(
      { copied: counters.copied, skipped: counters.skipped, missing: counters.missing, absentStyle: counters.absentStyle, failed: counters.failed, keys: counters.keys, rows: counters.rows, rowsTotal: counters.rowsTotal },
      { copied: 2 * rows, skipped: 0, missing: 1, absentStyle: 1, failed: 0, keys: 2 * rows + 2, rows: rows + 1, rowsTotal: rows + 1 },
    );
    assert.equal(counters.bytes, [...expected.values()].reduce((sum, body) => sum + body.length, 0));
    await run.assertDestinationComplete();

    const results = await Promise.all(workers.map((worker) => stopped(worker)));
    const copiedBy = results.map((result) => {
      assert.equal(result.code, 0, `a worker stopped by SIGTERM exits 0:\n${result.stderr}`);
      return lastJson<{ summary: { copied: number }[] }>(result.stdout).summary.reduce((sum, entry) => sum + entry.copied, 0);
    });
    assert.equal(copiedBy[0]! + copiedBy[1]!, 2 * rows, 'each object copied once, by one worker or the other');
    assert.ok(copiedBy.every((count) => count > 0), `both workers took part (${copiedBy.join(' + ')})`);

    const status = await runCli(['status', '--config', run.direct]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /0 waiting, 0 active, 0 delayed, 0 failed/);
    assert.match(status.stdout, new RegExp(`^${job}\\s+${rows + 1}\\s+${2 * rows + 2}\\s+${2 * rows}\\s+0\\s+1\\s+1\\s+0`, 'm'));
    assert.match(status.stdout, /missing\s+media_attachments\s+media_attachments\/files\/000\/399\/999\/original\/0000000000000000\.jpeg\s+not in source/);
    const statusJson = await runCli(['status', '--config', run.direct, '--json']);
    const record = lastJson<{ summary: Array<{ job: string; copied: number; finished: boolean; state: string }>; workers: unknown[] }>(statusJson.stdout);
    assert.deepEqual(record.summary.filter((entry) => entry.job === job).map((entry) => [entry.copied, entry.finished, entry.state]), [[2 * rows, true, 'finished']]);
    assert.ok(record.summary.every((entry) => entry.finished), 'the jobs without rows are finished too');
    assert.deepEqual(record.workers, [], 'stopped workers leave the list at once');

    const again = await run.enqueue();
    assert.deepEqual(again.reports.map((report) => [report.state, report.enqueued]), [['already-enqueued', 0]]);
    assert.equal((await run.status.jobs()).find((counters) => counters.job === job)?.keys, 2 * rows + 2);
    assert.match(again.result.stderr, /--from-start/);
  });

  test('enqueueing again adds nothing the queue still holds, and an interrupted enqueue resumes where it stopped', async () => {
    const run = await newRun('dedupe');
    const first = await run.enqueue(['--limit', '10']);
    assert.deepEqual(first.reports.map((report) => [report.rows, report.enqueued, report.state]), [[10, 20, 'partial']]);
    const second = await run.enqueue();
    assert.deepEqual(second.reports.map((report) => [report.rows, report.enqueued, report.alreadyQueued, report.state]), [[rows + 1 - 10, 2 * rows + 2 - 20, 0, 'enqueued']]);
    assert.match(second.result.stderr, /resuming after row 300009/);
    const third = await run.enqueue(['--from-start']);
    assert.deepEqual(third.reports.map((report) => [report.rows, report.enqueued, report.alreadyQueued]), [[rows + 1, 0, 2 * rows + 2]]);

    const inspector = new QueueInspector(redis, run.settings.prefix);
    try {
      assert.equal((await inspector.counts()).waiting, 2 * rows + 2, 'one task a key, however many times it was enqueued');
    } finally {
      await inspector.close();
    }
    const identity = `s3:${destinationBucket}/${run.destinationPrefix}`;
    const ids = (await redis.lrange(`${run.settings.prefix}:copy:wait`, 0, -1)).sort();
    const keys = [...expected.keys(), missingKey, missingKey.replace('/original/', '/small/')];
    assert.deepEqual(ids, keys.map((key) => taskId(identity, key)).sort());
    const counters = (await run.status.jobs()).find((entry) => entry.job === job);
    assert.equal(counters?.keys, 2 * rows + 2);
    assert.equal(counters?.rowsTotal, 2 * (rows + 1), '--from-start is a second pass over the rows');
  });

  test('an enqueue stopped while the queue is full resumes after the last row it queued: no key is counted twice', async () => {
    const maxWaiting = 5;
    const run = await newRun('resume', { queue: { max_waiting: maxWaiting } });
    const producer = startCli(['enqueue', '--config', run.direct, '--json']);
    running.push(producer);
    await eventually(async () => /pausing until the workers catch up/.test(producer.output().stderr), 15_000, 'enqueue to wait for room');
    const interrupted = await stopped(producer, 'SIGINT');
    assert.equal(interrupted.code, 130, interrupted.stderr);
    const [first] = lastJson<{ enqueue: EnqueueReport[] }>(interrupted.stdout).enqueue.filter((report) => report.job === job);
    assert.equal(first?.state, 'interrupted');

    // The workers finish what was queued: those tasks leave Redis, so only the cursor can tell they were queued.
    const worker = run.worker(run.direct);
    await eventually(async () => {
      const counters = (await run.status.jobs()).find((entry) => entry.job === job);
      return counters !== undefined && counters.keys > 0 && counters.copied === counters.keys;
    }, 15_000, 'the queued tasks to be copied');
    const second = await run.enqueue();
    assert.equal(first!.rows + second.reports[0]!.rows, rows + 1, 'every row read once over the two runs');
    assert.equal(first!.enqueued + second.reports[0]!.enqueued, 2 * rows + 2, 'every key queued once over the two runs');
    const counters = await run.finished();
    assert.deepEqual([counters.keys, counters.copied, counters.skipped, counters.missing, counters.absentStyle], [2 * rows + 2, 2 * rows, 0, 1, 1]);
    await run.assertDestinationComplete();
    assert.equal((await stopped(worker)).code, 0);
  });

  test('a worker killed with SIGKILL in the middle of its transfers loses nothing: another takes its tasks back', async () => {
    const run = await newRun('kill');
    const proxy = await hangingUploads();
    const doomed = run.worker(await run.config('hanging', proxy.endpoint));
    await run.enqueue();
    await eventually(async () => proxy.requests.filter(isObjectUpload).length >= 4, 15_000, 'the first worker to be uploading 4 objects');
    const killed = await stopped(doomed, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal((await run.status.jobs()).find((counters) => counters.job === job)?.copied, 0, 'nothing was copied before the kill');

    const survivor = run.worker(run.direct);
    const counters = await run.finished(30_000);
    assert.deepEqual([counters.copied, counters.missing, counters.absentStyle, counters.failed], [2 * rows, 1, 1, 0], 'every object counted once');
    await run.assertDestinationComplete();
    const result = await stopped(survivor);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /took back a task whose worker stopped renewing its lock/);
  });

  test('a worker frozen past its lock (a paused VM, a partition) does not count again the tasks another worker took back', async () => {
    const run = await newRun('frozen');
    const proxy = await startS3Proxy(instance.destinationServer.endpoint);
    proxies.push(proxy);
    let thaw!: () => void;
    const thawed = new Promise<void>((resolve) => (thaw = resolve));
    proxy.setFaults({ choose: (request) => (isObjectUpload(request) ? { until: thawed } : undefined) });
    const frozen = run.worker(await run.config('held', proxy.endpoint));
    await run.enqueue();
    await eventually(async () => proxy.requests.filter(isObjectUpload).length >= 4, 15_000, 'the first worker to be uploading 4 objects');
    frozen.child.kill('SIGSTOP');
    const survivor = run.worker(run.direct);
    await run.finished(30_000);

    // The frozen worker wakes up and its 4 uploads go through: they are the survivor's to count now.
    frozen.child.kill('SIGCONT');
    thaw();
    const woken = await stopped(frozen);
    const copiedByWoken = lastJson<{ summary: { copied: number }[] }>(woken.stdout).summary.reduce((sum, entry) => sum + entry.copied, 0);
    assert.ok(copiedByWoken > 0, `the woken worker finished its uploads:\n${woken.stderr}`);
    const counters = (await run.status.jobs()).find((entry) => entry.job === job);
    assert.deepEqual([counters?.copied, counters?.missing, counters?.absentStyle, counters?.failed], [2 * rows, 1, 1, 0], 'every object counted once');
    await run.assertDestinationComplete();
    assert.equal((await stopped(survivor)).code, 0);
  });

  test('a worker stopped while its uploads hang hands its tasks back after the grace period', async () => {
    const run = await newRun('grace', { queue: { lock_duration_s: 600 } });
    const proxy = await hangingUploads();
    const stopping = run.worker(await run.config('hanging', proxy.endpoint), ['--grace-period', '1']);
    await run.enqueue();
    await eventually(async () => proxy.requests.filter(isObjectUpload).length >= 4, 15_000, 'the worker to be uploading 4 objects');
    const result = await stopped(stopping);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /4 tasks handed back to the queue/);

    // A 10-minute lock would hold them that long had they not been handed back.
    const finisher = run.worker(run.direct);
    await run.finished(20_000);
    await run.assertDestinationComplete();
    assert.equal((await stopped(finisher)).code, 0);
  });

  test('failures are recorded once with their reason, retried only by the copy engine, and --retry-failed queues them again', async () => {
    const run = await newRun('failures');
    const [forbidden, flaky] = [...expected.keys()].filter((key) => key.includes('/original/'));
    const proxy = await startS3Proxy(instance.destinationServer.endpoint);
    proxies.push(proxy);
    let flakyFaults = 0;
    proxy.setFaults({
      choose(request) {
        if (!isObjectUpload(request)) return undefined;
        if (request.path.endsWith(forbidden!)) return 'forbidden';
        if (request.path.endsWith(flaky!) && flakyFaults < 2) {
          flakyFaults += 1;
          return 'internal-error';
        }
        return undefined;
      },
    });
    const worker = run.worker(await run.config('faulty', proxy.endpoint));
    await run.enqueue();
    let counters = await run.finished();
    assert.deepEqual([counters.copied, counters.failed, counters.missing], [2 * rows - 1, 1, 1]);
    const uploadsOf = (key: string): number => proxy.requests.filter((request) => isObjectUpload(request) && request.path.endsWith(key)).length;
    assert.equal(uploadsOf(forbidden!), 1, 'a permanent refusal is not retried, by the engine or by the queue');
    assert.equal(uploadsOf(flaky!), 3, 'two 500s, then success: the copy engine retried, as in one process');

    const [failure] = await run.status.recentFailures(5, job).then((list) => list.filter((entry) => entry.outcome === 'failed'));
    assert.equal(failure?.key, forbidden);
    assert.match(failure?.reason ?? '', /denied/i);
    const inspector = new QueueInspector(redis, run.settings.prefix);
    try {
      const [failedTask] = await inspector.failedTasks(5);
      assert.equal(failedTask?.reason, failure?.reason, 'BullMQ holds the same reason');
      assert.equal(failedTask?.attemptsMade, 1);
    } finally {
      await inspector.close();
    }

    // Every task has its outcome, one a failure: status says the job is done but not clean, how to
    // retry it, and exits 1 (as sync does), so that a script can tell a clean finish from this one.
    const failedStatus = await runCli(['status', '--config', run.direct]);
    assert.equal(failedStatus.code, 1, failedStatus.stderr);
    assert.match(failedStatus.stdout, new RegExp(`(^|; )${job}: finished, 1 failed(;|$)`, 'm'));
    assert.match(failedStatus.stdout, /^1 object failed: once its cause is fixed, enqueue --retry-failed queues it again$/m);
    const failedJson = await runCli(['status', '--config', run.direct, '--json']);
    assert.equal(failedJson.code, 1, failedJson.stderr);
    const failedRecord = lastJson<{ summary: Array<{ job: string; failed: number; finished: boolean; state: string }> }>(failedJson.stdout);
    assert.deepEqual(
      failedRecord.summary.filter((entry) => entry.job === job).map((entry) => [entry.failed, entry.finished, entry.state]),
      [[1, true, 'finished-with-failures']],
    );

    proxy.setFaults(undefined);
    const retry = await runCli(['enqueue', '--config', run.direct, '--retry-failed', '--json']);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(lastJson<{ retried: Record<string, number> }>(retry.stdout).retried, { [job]: 1 });
    counters = await eventually(async () => {
      const current = (await run.status.jobs()).find((entry) => entry.job === job);
      return current !== undefined && current.finishedAt !== undefined && current.copied === 2 * rows ? current : undefined;
    });
    assert.equal(counters.failed, 0);
    // The retry copied it: status no longer lists it among the failures (the missing original stays).
    const after = await runCli(['status', '--config', run.direct]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, new RegExp(`(^|; )${job}: finished(;|$)`, 'm'));
    assert.doesNotMatch(after.stdout, /--retry-failed/);
    const listed = after.stdout.split('latest failed or missing objects, newest first:\n')[1]?.trimEnd().split('\n') ?? [];
    assert.deepEqual(
      listed.map((line) => line.replace(/^ {2}\S+ {2}/, '')),
      [`missing  ${job}  ${missingKey}  not in source`],
    );
    // Prometheus's view: the failure stays counted (a counter never goes down), and so does its retry.
    const source = redisDashboardSource(run.status, { url: run.settings.url });
    const dashboard = await startDashboard({ source, port: 0 });
    try {
      const metrics = await (await fetch(`${dashboard.url}metrics`)).text();
      assert.match(metrics, new RegExp(`^mastodon_s3_sync_objects_total\\{job="${job}",outcome="failed"\\} 1$`, 'm'));
      assert.match(metrics, new RegExp(`^mastodon_s3_sync_failures_retried_total\\{job="${job}"\\} 1$`, 'm'));
    } finally {
      await dashboard.close();
      source.close();
    }
    await run.assertDestinationComplete();
    assert.equal((await stopped(worker)).code, 0);
  });

  test('backpressure: the waiting tasks never exceed [queue] max_waiting while enqueue runs', async () => {
    const maxWaiting = 5;
    const run = await newRun('bounded', { queue: { max_waiting: maxWaiting } });
    const inspector = new QueueInspector(redis, run.settings.prefix);
    let highest = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        highest = Math.max(highest, (await inspector.counts()).waiting);
        await sleep(10);
      }
    })();
    try {
      const producer = startCli(['enqueue', '--config', run.direct, '--json']);
      running.push(producer);
      await eventually(async () => /pausing until the workers catch up/.test(producer.output().stderr), 15_000, 'the queue to fill up');
      await sleep(1000);
      assert.equal(producer.child.exitCode, null, 'enqueue waits for room');
      // Whole rows go in together: two rows of 2 keys (4 tasks) at a time, as a third would pass the bound.
      assert.equal((await inspector.counts()).waiting, maxWaiting - 1);

      const worker = run.worker(run.direct);
      const result = await producer.result;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(lastJson<{ enqueue: EnqueueReport[] }>(result.stdout).enqueue.find((report) => report.job === job)?.enqueued, 2 * rows + 2);
      await run.finished();
      await run.assertDestinationComplete();
      assert.equal((await stopped(worker)).code, 0);
    } finally {
      sampling = false;
      await sampler;
      await inspector.close();
    }
    assert.ok(highest <= maxWaiting, `at most ${maxWaiting} tasks waited at any time (saw ${highest})`);
  });

  test('without a queue, or with the queue of another destination, the commands say what to fix', async () => {
    const noQueue = await instance.writeConfig({}, 'no-queue.ini');
    for (const command of ['enqueue', 'worker', 'status']) {
      const result = await runCli([command, '--config', noQueue]);
      assert.equal(result.code, 2, `${command}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`${command} needs the queue's Redis: pass --queue redis://HOST:6379, or set \\[queue\\] url`));
    }
    const badUrl = await runCli(['worker', '--config', noQueue, '--queue', 'http://127.0.0.1:6379']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--queue must be a Redis URL/);
    const unreachable = await runCli(['status', '--config', noQueue, '--queue', 'redis://127.0.0.1:1']);
    assert.equal(unreachable.code, 2);
    assert.equal(unreachable.stderr.trim().split('\n').length, 1, unreachable.stderr);
    assert.match(
      unreachable.stderr,
      /cannot reach the queue's Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*; start Redis there, or point --queue \(or \[queue\] url, or MASTODON_S3_SYNC_QUEUE_URL\) at the Redis the run uses$/m,
    );

    const run = await newRun('other');
    await run.enqueue(['--limit', '1']);
    const elsewhere = await instance.writeConfig(
      {
        destination: { type: 'fs', path: instance.directory },
        queue: { url: run.settings.url, prefix: run.settings.prefix },
      },
      'elsewhere.ini',
    );
    const worker = await runCli(['worker', '--config', elsewhere]);
    assert.equal(worker.code, 2, worker.stderr);
    assert.match(worker.stderr, /this worker's \[destination\] is directory .*, but the queue .* was filled for s3:\/\/new-media\/other-/);
    const producer = await runCli(['enqueue', '--config', elsewhere]);
    assert.equal(producer.code, 2, producer.stderr);
    assert.match(producer.stderr, /holds a run to s3:\/\/new-media\/other-.*give this destination its own \[queue\] prefix/);
  });

  test("a worker or an enqueue reading another [source] than the run's refuses to start, instead of finding every object missing", async () => {
    const run = await newRun('source');
    await run.enqueue(['--limit', '2']);
    // The run's config, but for the source's prefix: a typo in one machine's S3_KEY_PREFIX.
    const otherSource = path.join(instance.directory, 'source-elsewhere.ini');
    await writeFile(otherSource, (await readFile(run.direct, 'utf8')).replace('[source]\n', '[source]\nprefix = elsewhere\n'));
    const source = `s3://old-media at ${instance.sourceServer.endpoint}`;
    const elsewhere = `s3://old-media/elsewhere at ${instance.sourceServer.endpoint}`;
    const worker = run.worker(otherSource);
    const ended = await Promise.race([
      worker.result,
      eventually(async () => (await run.status.jobs()).find((counters) => counters.missing > 0) && 'the worker counted objects as missing'),
    ]);
    assert.equal(typeof ended, 'object', String(ended));
    const result = ended as CliResult;
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr.trim(),
      `mastodon-s3-sync: this worker's [source] is ${elsewhere}, but the queue at ${testRedisUrl} (prefix ${run.settings.prefix}) was filled from ${source}: fix [source] (every machine reads the bucket and prefix enqueue read; only the endpoint, or a directory's path, may differ)`,
    );
    const producer = await runCli(['enqueue', '--config', otherSource]);
    assert.equal(producer.code, 2, producer.stderr);
    assert.equal(
      producer.stderr.trim(),
      `mastodon-s3-sync: the queue at ${testRedisUrl} (prefix ${run.settings.prefix}) holds a run from ${source}, not from ${elsewhere}: fix [source], or give this source its own [queue] prefix`,
    );
    const counters = (await run.status.jobs()).find((entry) => entry.job === job);
    assert.deepEqual([counters?.copied, counters?.missing, counters?.absentStyle, counters?.keys], [0, 0, 0, 4], 'nothing counted; the first enqueue\'s 4 keys still queued');
  });

  test('a Redis URL whose database is no number, or one the server lacks, is one line, and nothing is queued in database 0', async () => {
    const run = await newRun('database-index');
    for (const [url, message] of [
      [`${testRedisUrl}/abc`, /--queue must be a Redis URL such as redis:\/\/10\.0\.0\.1:6379 \(or redis:\/\/10\.0\.0\.1:6379\/2 for database 2\), not ".*\/abc"$/],
      [`${testRedisUrl}/99999`, /the queue's Redis at redis:\/\/127\.0\.0\.1:6379\/99999 has no database 99999 \(ERR DB index is out of range\): correct the number after the last \/ in the URL$/],
    ] as const) {
      for (const command of ['enqueue', 'status']) {
        const result = await runCli([command, '--config', run.direct, '--queue', url]);
        assert.equal(result.code, 2, `${command} ${url}: ${result.stderr}`);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
        assert.match(result.stderr.trim(), message);
      }
    }
    const inFile = await run.config('bad-database', undefined);
    const result = await runCli(['enqueue', '--config', inFile], { env: { MASTODON_S3_SYNC_QUEUE_URL: `${testRedisUrl}/x1` } });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.trim(), 'mastodon-s3-sync: [queue] url (from MASTODON_S3_SYNC_QUEUE_URL): must be a Redis URL such as redis://10.0.0.1:6379 (or redis://10.0.0.1:6379/2 for database 2)');
    assert.deepEqual(await keysOf(redis, run.settings.prefix), []);
  });

  test('an endpoint with a user:password part: status, the run record in Redis and the worker show it without them', async () => {
    const run = await newRun('userinfo');
    const endpoint = instance.destinationServer.endpoint.replace('://', '://S3RVER:hunter2@');
    const config = await run.config('userinfo', endpoint);
    await run.enqueue(['--limit', '1'], config);
    const status = await runCli(['status', '--config', config]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`→ s3://new-media/${run.destinationPrefix} at ${instance.destinationServer.endpoint.replaceAll('.', '\\.')},`));
    const worker = run.worker(config);
    await eventually(async () => (/copying tasks from/.test(worker.output().stderr) ? true : undefined), 10_000, 'the worker to start');
    const workerResult = await stopped(worker);
    // The run's record, which every machine's status and worker read.
    const redisText = JSON.stringify(await redis.hgetall(`${run.settings.prefix}:status:meta`));
    assert.match(redisText, /new-media/);
    for (const [where, text] of [['status', status.stdout + status.stderr], ['worker', workerResult.stdout + workerResult.stderr], ['Redis', redisText]] as const) {
      assert.doesNotMatch(text, /hunter2/, `${where} shows the endpoint's password`);
    }
  });
});
