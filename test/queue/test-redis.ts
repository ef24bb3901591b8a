/**
 * Redis for the queue tests: the real server on 127.0.0.1:6379, one key prefix a test so that
 * tests never see each other's tasks, and a clean-up that leaves no key of that prefix behind.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { copyQueueName, type QueueSettings } from '../../src/queue/queue-settings.js';

export const testRedisUrl = 'redis://127.0.0.1:6379';

export function testQueue(label = 'test'): QueueSettings {
  return { url: testRedisUrl, prefix: `mss-${label}-${process.pid}-${randomBytes(4).toString('hex')}` };
}

export function testRedis(): Redis {
  return new Redis(testRedisUrl, { maxRetriesPerRequest: null });
}

/** Keys of the prefix, as Redis lists them. */
export async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

/** Obliterates the queue (BullMQ's own clean-up), then deletes whatever else the prefix holds (our counters). */
export async function cleanUp(settings: QueueSettings): Promise<void> {
  const queue = new Queue(copyQueueName, { connection: { url: settings.url }, prefix: settings.prefix });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  const redis = testRedis();
  try {
    const keys = await keysOf(redis, settings.prefix);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

/** Polls `check` until it holds (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
