import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { copyQueueName } from './queue-settings.js';

/** Tasks by state, as BullMQ counts them. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/**
 * The copy queue for reading only (`status`, the dashboard's bull-board), over a client the caller
 * owns: BullMQ never closes a connection it was handed, so a Redis that went away cannot hold up
 * closing it, and the caller's own bound on its reads covers the queue's too.
 */
export function readOnlyQueue(redis: Redis, prefix: string): Queue {
  const queue = new Queue(copyQueueName, { connection: redis, prefix, skipMetasUpdate: true });
  // BullMQ re-emits the connection's errors (each failed reconnect) and, with no listener, prints
  // each with its stack; the caller hears of a Redis away through its own reads.
  queue.on('error', () => undefined);
  return queue;
}

/** Reads the copy queue's state without taking or adding tasks (`status`, the dashboard). */
export class QueueInspector {
  readonly #queue: Queue;

  constructor(redis: Redis, prefix: string) {
    this.#queue = readOnlyQueue(redis, prefix);
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.#queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    return {
      waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
      active: counts['active'] ?? 0,
      delayed: counts['delayed'] ?? 0,
      failed: counts['failed'] ?? 0,
    };
  }

  /** The reasons BullMQ recorded for the latest failed tasks, newest first. */
  async failedTasks(limit: number): Promise<{ id: string; name: string; reason: string; attemptsMade: number }[]> {
    const jobs = await this.#queue.getJobs(['failed'], 0, Math.max(0, limit - 1));
    return jobs.filter((job) => job !== undefined).map((job) => ({ id: job.id ?? '', name: job.name, reason: job.failedReason, attemptsMade: job.attemptsMade }));
  }

  /** Lets go of the queue; the client stays the caller's to close. */
  async close(): Promise<void> {
    await this.#queue.close();
  }
}
