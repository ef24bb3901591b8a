import { Queue } from 'bullmq';
import { bullConnection, copyQueueName, type QueueSettings } from './queue-settings.js';

/** Tasks by state, as BullMQ counts them. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** Reads the copy queue's state without taking or adding tasks (`status`, the dashboard). */
export class QueueInspector {
  readonly #queue: Queue;

  constructor(settings: QueueSettings) {
    this.#queue = new Queue(copyQueueName, { connection: bullConnection(settings), prefix: settings.prefix, skipMetasUpdate: true });
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

  async close(): Promise<void> {
    await this.#queue.close();
  }
}
