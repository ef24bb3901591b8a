import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import type { Redis } from 'ioredis';
import { redisDashboardSource, type QueueDashboardChange } from '../../src/queue/redis-dashboard-source.js';
import { RedisRunStatus, type RunMeta, type WorkerBeat } from '../../src/queue/redis-run-status.js';
import type { QueueSettings } from '../../src/queue/queue-settings.js';
import type { DashboardSource } from '../../src/web/dashboard-source.js';
import { startDashboard } from '../../src/web/index.js';
import { cleanUp, eventually, keysOf, testQueue, testRedis } from './test-redis.js';

let redis: Redis;
let settings: QueueSettings;
let status: RedisRunStatus;

before(() => {
  redis = testRedis();
});
after(async () => {
  await redis.quit();
});
beforeEach(() => {
  settings = testQueue('status');
  status = new RedisRunStatus(redis, settings.prefix, { failureCapacity: 3, heartbeatTtlMs: 400 });
});
afterEach(async () => {
  await status.clear();
  assert.deepEqual(await keysOf(redis, settings.prefix), [], 'clear() removes every counter');
  await cleanUp(settings);
});

const beat = (id: string, inFlight: Record<string, number>): WorkerBeat => ({ id, host: 'host-a', pid: 1, concurrency: 4, startedAt: Date.now(), beatAt: Date.now(), inFlight, done: 0 });

test('counters add up across producers and workers, and a job finishes when every queued key has an outcome', async () => {
  await status.startEnqueue('accounts', 3, false);
  await status.batchEnqueued('accounts', { rows: 3, referenced: 5, added: 4, alreadyQueued: 1, cursor: '103' });
  const progress = await status.enqueueProgress('accounts');
  assert.equal(progress.cursor, '103');
  assert.ok((progress.startedAt ?? 0) > 0);
  assert.equal(progress.finishedAt, undefined);
  await status.record({ job: 'accounts', key: 'a', outcome: 'copied', bytes: 100 });
  await status.record({ job: 'accounts', key: 'b', outcome: 'skipped', bytes: 40 });
  await status.record({ job: 'accounts', key: 'c', outcome: 'absent-style', bytes: 0 });
  await status.heartbeat(beat('w1', { accounts: 1 }));
  await status.heartbeat(beat('w2', { accounts: 2, media_attachments: 1 }));

  let [job] = await status.jobs();
  assert.equal(job?.job, 'accounts');
  assert.deepEqual(
    { rowsTotal: job?.rowsTotal, rows: job?.rows, keys: job?.keys, referenced: job?.referenced, alreadyQueued: job?.alreadyQueued, copied: job?.copied, skipped: job?.skipped, absentStyle: job?.absentStyle, bytes: job?.bytes, skippedBytes: job?.skippedBytes, inFlight: job?.inFlight },
    { rowsTotal: 3, rows: 3, keys: 4, referenced: 5, alreadyQueued: 1, copied: 1, skipped: 1, absentStyle: 1, bytes: 100, skippedBytes: 40, inFlight: 3 },
  );
  assert.equal(job?.finishedAt, undefined);
  assert.ok((job?.startedAt ?? 0) > 0);

  await status.finishEnqueue('accounts');
  await status.record({ job: 'accounts', key: 'd', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
  [job] = await status.jobs();
  assert.equal(job?.enqueued, true);
  assert.ok(job?.finishedAt !== undefined, 'every key has its outcome');
  assert.equal((await status.enqueueProgress('accounts')).finishedAt !== undefined, true);

  await status.record({ job: 'emojis', key: 'd', outcome: 'missing', bytes: 0, reason: 'not in source' });
  await status.record({ job: 'emojis', key: 'd', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
  await status.failuresRetried('accounts', ['d']);
  assert.deepEqual(
    (await status.recentFailures(10)).map((failure) => `${failure.job} ${failure.key} ${failure.outcome}`),
    ['emojis d failed', 'emojis d missing'],
    "the retried task's failure leaves the list; another job's stays",
  );
  [job] = await status.jobs();
  assert.equal(job?.failed, 0);
  assert.equal(job?.finishedAt, undefined, 'a retried task is pending again');
});

test("an outcome recorded under a task's lock counts only while that lock is held", async () => {
  const lock = { key: `${settings.prefix}:copy:k-a:lock`, token: 'worker-a-token' };
  await redis.set(lock.key, lock.token, 'PX', 5000);
  assert.equal(await status.record({ job: 'accounts', key: 'a', outcome: 'copied', bytes: 100 }, lock), true);
  // The lock lapsed and another worker took the task: what the first one finishes is not its to count.
  await redis.set(lock.key, 'worker-b-token', 'PX', 5000);
  assert.equal(await status.record({ job: 'accounts', key: 'a', outcome: 'copied', bytes: 100 }, lock), false);
  await redis.del(lock.key);
  assert.equal(await status.record({ job: 'accounts', key: 'a', outcome: 'failed', bytes: 0, reason: 'late' }, lock), false);
  const [job] = await status.jobs();
  assert.deepEqual([job?.copied, job?.failed, job?.bytes], [1, 0, 100]);
  assert.equal(await status.failureTotal(), 0);
});

test("a new pass adds its rows to the total and forgets the last pass's cursor", async () => {
  await status.startEnqueue('accounts', 10, false);
  await status.batchEnqueued('accounts', { rows: 10, referenced: 10, added: 10, alreadyQueued: 0, cursor: '110' });
  await status.finishEnqueue('accounts');
  await status.startEnqueue('accounts', 12, true);
  const progress = await status.enqueueProgress('accounts');
  assert.equal(progress.cursor, undefined);
  assert.equal(progress.finishedAt, undefined);
  assert.equal((await status.jobs())[0]?.rowsTotal, 22);
});

test('failed and missing objects are kept newest first, capped, and by job', async () => {
  for (const [index, job] of ['accounts', 'media_attachments', 'accounts', 'accounts'].entries()) {
    await status.record({ job, key: `k${index}`, outcome: index === 1 ? 'missing' : 'failed', bytes: 0, reason: `reason ${index}` });
    await sleep(2);
  }
  await status.record({ job: 'accounts', key: 'fine', outcome: 'copied', bytes: 1 });
  const failures = await status.recentFailures(10);
  assert.deepEqual(
    failures.map((failure) => [failure.key, failure.outcome, failure.reason]),
    [
      ['k3', 'failed', 'reason 3'],
      ['k2', 'failed', 'reason 2'],
      ['k1', 'missing', 'reason 1'],
    ],
    'the capacity (3) keeps the latest',
  );
  assert.deepEqual((await status.recentFailures(10, 'media_attachments')).map((failure) => failure.key), ['k1']);
  assert.deepEqual((await status.recentFailures(1)).map((failure) => failure.key), ['k3']);
  assert.equal(await status.failureTotal(), 4, 'the total counts what the list dropped');
});

test('workers count while their heartbeat is fresh', async () => {
  await status.heartbeat(beat('w1', { accounts: 2 }));
  await status.heartbeat(beat('w2', { accounts: 1, media_attachments: 3 }));
  assert.deepEqual((await status.workers()).map((worker) => worker.id).sort(), ['w1', 'w2']);
  await status.workerStopped('w2');
  assert.deepEqual((await status.workers()).map((worker) => worker.id), ['w1']);
  await sleep(500);
  assert.deepEqual(await status.workers(), [], 'a dead worker drops out with its heartbeat');
});

test('the run meta is written once; the producer lock admits one enqueue at a time', async () => {
  const first: RunMeta = { destinationIdentity: 's3:new-media/', destination: 's3://new-media', source: 's3://old-media', createdAt: 1 };
  assert.deepEqual(await status.claim(first), first);
  assert.deepEqual(await status.claim({ ...first, destinationIdentity: 's3:other/', createdAt: 2 }), first);
  assert.equal(await status.lockProducer('p1', 10_000), undefined);
  assert.equal(await status.lockProducer('p2', 10_000), 'p1');
  assert.equal(await status.extendProducerLock('p2', 10_000), false);
  assert.equal(await status.extendProducerLock('p1', 10_000), true);
  await status.unlockProducer('p2');
  assert.equal(await status.lockProducer('p2', 10_000), 'p1', 'only the holder can release it');
  await status.unlockProducer('p1');
  assert.equal(await status.lockProducer('p2', 10_000), undefined);
});

test('the dashboard source reads the counters and pushes job changes and new failures', async () => {
  const source = redisDashboardSource(status, { url: settings.url, pollMs: 50 });
  // The dashboard's own type accepts it as it is.
  const asDashboardSource: DashboardSource = source;
  const changes: QueueDashboardChange[] = [];
  const unsubscribe = asDashboardSource.subscribe((change) => changes.push(change));
  try {
    await status.startEnqueue('accounts', 1, false);
    await status.batchEnqueued('accounts', { rows: 1, referenced: 2, added: 2, alreadyQueued: 0, cursor: '1' });
    await eventually(async () => changes.some((change) => change.type === 'job' && change.job === 'accounts'), 2000, 'the job to appear');
    await status.record({ job: 'accounts', key: 'gone.png', outcome: 'missing', bytes: 0, reason: 'not in source' });
    await status.record({ job: 'accounts', key: 'ok.png', outcome: 'copied', bytes: 5 });
    await status.finishEnqueue('accounts');
    const failure = await eventually(async () => changes.find((change) => change.type === 'object'), 2000, 'the failure');
    assert.deepEqual(failure, { type: 'object', event: { job: 'accounts', key: 'gone.png', outcome: 'missing', bytes: 0, reason: 'not in source' } });
    await eventually(async () => changes.filter((change) => change.type === 'job').length === 2, 2000, 'the job to finish');
    assert.equal((await source.jobs())[0]?.copied, 1);
    assert.deepEqual((await source.failures({ limit: 5 })).map((entry) => entry.key), ['gone.png']);
  } finally {
    unsubscribe();
    source.close();
  }
});

test('the dashboard serves the counters from Redis', async () => {
  await status.startEnqueue('media_attachments', 4, false);
  await status.batchEnqueued('media_attachments', { rows: 4, referenced: 8, added: 8, alreadyQueued: 0, cursor: '4' });
  await status.record({ job: 'media_attachments', key: 'x', outcome: 'copied', bytes: 1234 });
  await status.record({ job: 'media_attachments', key: 'y', outcome: 'failed', bytes: 0, reason: 'InternalError (after 5 attempts)' });
  // Two workers were throttled: /metrics counts both, though neither runs in this process.
  await status.recordThrottle();
  await status.recordThrottle();
  const source = redisDashboardSource(status, { url: settings.url });
  const dashboard = await startDashboard({ source, port: 0, tickMs: 100 });
  try {
    const jobs = (await (await fetch(`${dashboard.url}api/jobs`)).json()) as { jobs: Array<Record<string, unknown>> };
    const [job] = jobs.jobs;
    assert.equal(job?.['job'], 'media_attachments');
    assert.equal(job?.['copied'], 1);
    assert.equal(job?.['failed'], 1);
    assert.equal(job?.['bytes'], 1234);
    assert.equal(job?.['keys'], 8);
    const failures = (await (await fetch(`${dashboard.url}api/failures?limit=5`)).json()) as { failures: Array<Record<string, unknown>> };
    assert.deepEqual(failures.failures.map((entry) => [entry['key'], entry['reason']]), [['y', 'InternalError (after 5 attempts)']]);
    const metrics = await (await fetch(`${dashboard.url}metrics`)).text();
    assert.match(metrics, /mastodon_s3_sync_objects_total\{job="media_attachments",outcome="copied"\} 1/);
    assert.match(metrics, /^mastodon_s3_sync_throttle_events_total 2$/m);
  } finally {
    await dashboard.close();
    source.close();
  }
});

test('enqueue --retry-failed lowers the failed count the dashboard shows, never the failed counter /metrics exports', async () => {
  await status.startEnqueue('accounts', 3, false);
  await status.batchEnqueued('accounts', { rows: 3, referenced: 3, added: 3, alreadyQueued: 0, cursor: '3' });
  await status.record({ job: 'accounts', key: 'a', outcome: 'copied', bytes: 1 });
  await status.record({ job: 'accounts', key: 'b', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
  await status.record({ job: 'accounts', key: 'c', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
  const source = redisDashboardSource(status, { url: settings.url });
  const dashboard = await startDashboard({ source, port: 0, tickMs: 100 });
  const read = async (): Promise<{ failedTotal: number; retriedTotal: number; failedNow: number; copiedNow: number }> => {
    const metrics = await (await fetch(`${dashboard.url}metrics`)).text();
    const sample = (pattern: RegExp): number => Number(pattern.exec(metrics)?.[1]);
    const [job] = ((await (await fetch(`${dashboard.url}api/jobs`)).json()) as { jobs: Array<{ failed: number; copied: number }> }).jobs;
    return {
      failedTotal: sample(/^mastodon_s3_sync_objects_total\{job="accounts",outcome="failed"\} (\d+)$/m),
      retriedTotal: sample(/^mastodon_s3_sync_failures_retried_total\{job="accounts"\} (\d+)$/m),
      failedNow: job!.failed,
      copiedNow: job!.copied,
    };
  };
  try {
    let now = await read();
    assert.deepEqual([now.failedTotal, now.failedNow, now.copiedNow], [2, 2, 1]);
    // What `enqueue --retry-failed` records as it puts both tasks back in the queue.
    await status.failuresRetried('accounts', ['b', 'c']);
    now = await read();
    assert.equal(now.failedTotal, 2, 'a counter Prometheus scraped must never go down');
    assert.equal(now.failedNow, 0, 'the dashboard counts the retried tasks as pending again');
    assert.equal(now.retriedTotal, 2, 'how many of the failures were retried');
    // The retries: one fails again, one is copied.
    await status.record({ job: 'accounts', key: 'b', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
    await status.record({ job: 'accounts', key: 'c', outcome: 'copied', bytes: 1 });
    assert.deepEqual(await read(), { failedTotal: 3, retriedTotal: 2, failedNow: 1, copiedNow: 2 });
  } finally {
    await dashboard.close();
    source.close();
  }
});
