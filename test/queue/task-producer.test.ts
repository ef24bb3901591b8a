import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { copyQueueName, type QueueSettings } from '../../src/queue/queue-settings.js';
import { taskId } from '../../src/queue/task-id.js';
import { TaskProducer, type QueuedTask } from '../../src/queue/task-producer.js';
import { cleanUp, keysOf, testQueue, testRedis } from './test-redis.js';

interface Data {
  key: string;
}

const destination = 's3:new-media/';
const tasks = (count: number, from = 0): QueuedTask<Data>[] =>
  Array.from({ length: count }, (_, index) => {
    const key = `media_attachments/files/000/000/${String(from + index).padStart(3, '0')}/original/x.png`;
    return { id: taskId(destination, key), name: 'media_attachments', data: { key } };
  });

let redis: Redis;
let settings: QueueSettings;
let producer: TaskProducer<Data> | undefined;

before(() => {
  redis = testRedis();
});
after(async () => {
  await redis.quit();
});
beforeEach(() => {
  settings = testQueue('producer');
});
afterEach(async () => {
  await producer?.close();
  producer = undefined;
  await cleanUp(settings);
  assert.deepEqual(await keysOf(redis, settings.prefix), [], 'the test left nothing in Redis');
});

test('a task id depends on the destination and the key only, and is safe for BullMQ', () => {
  const key = 'accounts/avatars/000/012/345/original/a.gif';
  assert.equal(taskId('s3:new-media/', key), taskId('s3:new-media/', key));
  assert.notEqual(taskId('s3:new-media/', key), taskId('s3:other-bucket/', key));
  assert.notEqual(taskId('s3:new-media/', key), taskId('s3:new-media/', `${key}x`));
  assert.match(taskId('s3:new-media/', key), /^k[A-Za-z0-9_-]{20}$/, 'no ":" and never an integer');
});

test('adding the same tasks again adds nothing: the ids the queue holds are skipped', async () => {
  producer = new TaskProducer<Data>({ ...settings, redis });
  assert.deepEqual(await producer.add(tasks(25)), { added: 25, alreadyQueued: 0, interrupted: false });
  assert.deepEqual(await producer.add([...tasks(25), ...tasks(5, 25)]), { added: 5, alreadyQueued: 25, interrupted: false });
  const counts = await producer.queue.getJobCounts('waiting');
  assert.equal(counts['waiting'], 30);
  const ids = (await producer.queue.getJobs(['waiting'], 0, -1)).map((job) => job.id).sort();
  assert.deepEqual(ids, tasks(30).map((task) => task.id).sort());
  const [job] = await producer.queue.getJobs(['waiting'], 0, 0);
  assert.equal(job?.name, 'media_attachments');
  assert.equal(job?.opts.attempts, 1, 'one BullMQ attempt: the copy engine does the retrying');
  assert.equal(job?.opts.removeOnComplete, true);
});

test('the producer pauses while max_waiting tasks wait, and goes on as workers take them', async () => {
  const maxWaiting = 20;
  const pauses: number[] = [];
  producer = new TaskProducer<Data>({ ...settings, redis, maxWaiting, pollMs: 50, onFull: (waiting) => pauses.push(waiting) });
  let highest = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      highest = Math.max(highest, await producer!.waiting());
      await sleep(5);
    }
  })();
  const adding = producer.add(tasks(200));
  await sleep(400);
  assert.equal(await producer.waiting(), maxWaiting, 'stopped at the bound while no worker takes tasks');
  let processed = 0;
  const worker = new Worker(
    copyQueueName,
    async () => {
      await sleep(5);
      processed += 1;
    },
    { connection: { url: settings.url }, prefix: settings.prefix, concurrency: 4 },
  );
  try {
    assert.deepEqual(await adding, { added: 200, alreadyQueued: 0, interrupted: false });
    while (processed < 200) await sleep(20);
  } finally {
    sampling = false;
    await sampler;
    await worker.close();
  }
  assert.ok(highest <= maxWaiting, `at most ${maxWaiting} tasks ever waited (saw ${highest})`);
  assert.ok(pauses.length >= 1, 'the producer said it was waiting');
});

test('an aborted add stops before the next chunk and says so', async () => {
  producer = new TaskProducer<Data>({ ...settings, redis, maxWaiting: 10, pollMs: 50 });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 300);
  const result = await producer.add(tasks(35), stop.signal);
  assert.deepEqual(result, { added: 10, alreadyQueued: 0, interrupted: true });
  assert.equal(await producer.waiting(), 10);
});
