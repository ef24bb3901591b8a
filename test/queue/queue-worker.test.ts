import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import type { Redis } from 'ioredis';
import { QueueWorker, type QueueTask, type RunningTask, type TaskProcessor } from '../../src/queue/queue-worker.js';
import type { QueueSettings } from '../../src/queue/queue-settings.js';
import { TaskProducer } from '../../src/queue/task-producer.js';
import { cleanUp, eventually, keysOf, testQueue, testRedis } from './test-redis.js';

interface Data {
  key: string;
}

let redis: Redis;
let settings: QueueSettings;
let producer: TaskProducer<Data>;
const workers: QueueWorker<Data>[] = [];

before(() => {
  redis = testRedis();
});
after(async () => {
  await redis.quit();
});
beforeEach(() => {
  settings = testQueue('worker');
  producer = new TaskProducer<Data>({ ...settings, redis });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close(true)));
  await producer.close();
  await cleanUp(settings);
  assert.deepEqual(await keysOf(redis, settings.prefix), []);
});

function startWorker(processor: TaskProcessor<Data>, options: Partial<ConstructorParameters<typeof QueueWorker<Data>>[0]> = {}): QueueWorker<Data> {
  const worker = new QueueWorker<Data>({ ...settings, concurrency: 2, ...options }, processor);
  workers.push(worker);
  void worker.run();
  return worker;
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

test("the processor's failure fails the task once, with its reason, and is not retried by the queue", async () => {
  await producer.add([{ id: 'k-a', name: 'accounts', data: { key: 'accounts/a.png' } }]);
  const calls: RunningTask<Data>[] = [];
  const unaccounted: string[] = [];
  startWorker(
    async (task) => {
      calls.push(task);
      return { failure: 'AccessDenied: Access Denied (after 1 attempts)' };
    },
    { onUnaccountedFailure: (_, reason) => void unaccounted.push(reason) },
  );
  const job = await eventually(async () => {
    const [failed] = await producer.queue.getJobs(['failed']);
    return failed;
  });
  assert.equal(job.failedReason, 'AccessDenied: Access Denied (after 1 attempts)');
  assert.equal(job.attemptsMade, 1);
  await sleep(300);
  assert.equal(calls.length, 1, 'run exactly once');
  assert.deepEqual(calls[0]?.data, { key: 'accounts/a.png' });
  assert.equal(calls[0]?.name, 'accounts');
  assert.equal(calls[0]?.lock.key, `${settings.prefix}:copy:k-a:lock`, "the processor is told where BullMQ keeps the task's lock");
  assert.deepEqual(unaccounted, [], 'the processor accounted for its own failure');
});

test('a processor that throws fails the task, and the failure is reported as unaccounted', async () => {
  await producer.add([{ id: 'k-b', name: 'accounts', data: { key: 'accounts/b.png' } }]);
  const unaccounted: [string, string][] = [];
  startWorker(
    async () => {
      throw new Error('a bug');
    },
    { onUnaccountedFailure: (task, reason) => void unaccounted.push([task.data.key, reason]) },
  );
  await eventually(async () => unaccounted.length === 1);
  assert.deepEqual(unaccounted, [['accounts/b.png', 'a bug']]);
  assert.equal(await producer.queue.getFailedCount(), 1);
});

test("the processor gets the task's lock as Redis holds it while the task runs", async () => {
  await producer.add([{ id: 'k-l', name: 'accounts', data: { key: 'accounts/l.png' } }]);
  let held: [string | null, string] | undefined;
  startWorker(async (task) => {
    held = [await redis.get(task.lock.key), task.lock.token];
    return {};
  });
  await eventually(async () => held !== undefined, 5000);
  assert.equal(held?.[0], held?.[1]);
});

test('a worker that stops renewing its lock loses nothing: another worker takes the task back and runs it', async () => {
  await producer.add([{ id: 'k-c', name: 'accounts', data: { key: 'accounts/c.png' } }]);
  const dying = startWorker(never, { lockDurationMs: 1000 });
  await eventually(async () => dying.active === 1, 5000, 'the first worker to take the task');
  // What a kill -9 leaves: the task active, its lock no longer renewed.
  await dying.close(true);
  const stalled: string[] = [];
  const done: QueueTask<Data>[] = [];
  startWorker(
    async (task) => {
      done.push(task);
      return {};
    },
    { lockDurationMs: 1000, onStalled: (id) => stalled.push(id) },
  );
  await eventually(async () => done.length === 1, 10_000, 'the second worker to run the task');
  assert.deepEqual(stalled, ['k-c']);
  assert.equal(done[0]?.attemptsStarted, 2, 'begun twice: once by each worker');
  await eventually(async () => (await producer.queue.getJobCounts('completed', 'active', 'waiting', 'failed'))['active'] === 0);
  assert.equal(await producer.queue.getFailedCount(), 0);
});

test('release hands the tasks in flight back at once, without waiting for their locks to expire', async () => {
  await producer.add([
    { id: 'k-d', name: 'accounts', data: { key: 'accounts/d.png' } },
    { id: 'k-e', name: 'accounts', data: { key: 'accounts/e.png' } },
  ]);
  const stopping = startWorker(never, { lockDurationMs: 60_000 });
  await eventually(async () => stopping.active === 2, 5000);
  assert.equal(await stopping.release(), 2);
  await stopping.close(true);
  const done: string[] = [];
  startWorker(async (task) => {
    done.push(task.data.key);
    return {};
  });
  await eventually(async () => done.length === 2, 5000, 'another worker to run both at once');
  assert.deepEqual(done.sort(), ['accounts/d.png', 'accounts/e.png']);
});

test('a task orphaned more often than maxStalledCount is failed, and reported as unaccounted', async () => {
  await producer.add([{ id: 'k-f', name: 'accounts', data: { key: 'accounts/f.png' } }]);
  const dying = startWorker(never, { lockDurationMs: 1000, maxStalledCount: 0 });
  await eventually(async () => dying.active === 1, 5000);
  await dying.close(true);
  const unaccounted: [string, string][] = [];
  const ran: string[] = [];
  startWorker(
    async (task) => {
      ran.push(task.id);
      return {};
    },
    { lockDurationMs: 1000, maxStalledCount: 0, onUnaccountedFailure: (task, reason) => void unaccounted.push([task.data.key, reason]) },
  );
  await eventually(async () => unaccounted.length === 1, 10_000, 'the task to be failed');
  assert.deepEqual(unaccounted, [['accounts/f.png', 'job stalled more than allowable limit']]);
  assert.deepEqual(ran, [], 'not run a second time');
});
