import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullConnection, copyQueueName, type QueueSettings } from './queue-settings.js';

/** One task to add: its deterministic id, the job it belongs to, and its data. */
export interface QueuedTask<T> {
  id: string;
  /** The Mastodon job (`accounts`, `media_attachments`...): BullMQ's job name. */
  name: string;
  data: T;
}

export interface AddResult {
  added: number;
  /** Tasks the queue still held under the same id (waiting, active, delayed or failed): not added again. */
  alreadyQueued: number;
  /** The signal stopped it before every task was looked at. */
  interrupted: boolean;
}

export interface TaskProducerOptions extends QueueSettings {
  /** A client of the same Redis, to look up which tasks the queue holds. */
  redis: Redis;
  /**
   * The producer waits while more tasks than this are waiting, so that Redis
   * holds at most this many tasks (about 1 KB each) however large the run.
   * @defaultValue 20000
   */
  maxWaiting?: number;
  /** Tasks per `addBulk`. @defaultValue 1000 */
  chunkSize?: number;
  /** How often a full queue is checked again. @defaultValue 500 */
  pollMs?: number;
  /** Hears when the producer starts waiting for the workers, with the number waiting. */
  onFull?: (waiting: number) => void;
  /** Hears when it goes on. */
  onRoom?: (waiting: number) => void;
}

/**
 * Failed tasks stay in the queue (for `status`, and for `enqueue --retry-failed`), up to this many;
 * completed ones are removed at once, so that Redis memory follows the waiting tasks, not the run.
 */
const keptFailedTasks = 100_000;

/**
 * The producer side: adds tasks in bulk under deterministic ids, skips those
 * the queue already holds, and never lets more than `maxWaiting` wait.
 */
export class TaskProducer<T> {
  readonly queue: Queue<unknown, unknown, string>;
  readonly #maxWaiting: number;
  readonly #chunkSize: number;
  readonly #pollMs: number;
  readonly #options: TaskProducerOptions;

  constructor(options: TaskProducerOptions) {
    this.#options = options;
    this.#maxWaiting = options.maxWaiting ?? 20_000;
    this.#chunkSize = Math.max(1, Math.min(options.chunkSize ?? 1000, this.#maxWaiting));
    this.#pollMs = options.pollMs ?? 500;
    this.queue = new Queue<unknown, unknown, string>(copyQueueName, {
      connection: bullConnection(options),
      prefix: options.prefix,
      defaultJobOptions: {
        // One BullMQ attempt: the copy engine retries transient errors itself, as in one process.
        attempts: 1,
        removeOnComplete: true,
        removeOnFail: { count: keptFailedTasks },
      },
    });
  }

  /**
   * Adds the tasks the queue does not hold yet, a chunk at a time, each chunk
   * once there is room for it. Resolves early (with what was added) when `signal` aborts.
   */
  async add(tasks: readonly QueuedTask<T>[], signal?: AbortSignal): Promise<AddResult> {
    const result: AddResult = { added: 0, alreadyQueued: 0, interrupted: false };
    for (let start = 0; start < tasks.length; start += this.#chunkSize) {
      const chunk = tasks.slice(start, start + this.#chunkSize);
      const held = await this.#held(chunk);
      const fresh = chunk.filter((_, index) => !held[index]);
      if (fresh.length > 0 && !(await this.#roomFor(fresh.length, signal))) return { ...result, interrupted: true };
      result.alreadyQueued += chunk.length - fresh.length;
      if (fresh.length === 0) continue;
      await this.queue.addBulk(fresh.map((task) => ({ name: task.name, data: task.data, opts: { jobId: task.id } })));
      result.added += fresh.length;
    }
    return result;
  }

  /** Tasks per `addBulk`: `add()` adds this many or fewer all at once, or, when interrupted, none of them. */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** Tasks waiting for a worker (BullMQ's wait list, plus delayed and prioritized). */
  waiting(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /** Which tasks the queue holds already (one round trip a chunk). */
  async #held(chunk: readonly QueuedTask<T>[]): Promise<boolean[]> {
    const pipeline = this.#options.redis.pipeline();
    for (const task of chunk) pipeline.exists(this.queue.toKey(task.id));
    const results = (await pipeline.exec()) ?? [];
    return chunk.map((_, index) => {
      const [error, exists] = results[index] ?? [null, 0];
      if (error !== null) throw error;
      return exists === 1;
    });
  }

  /** Waits until `count` more tasks keep the waiting ones at or under `maxWaiting`; false when interrupted. */
  async #roomFor(count: number, signal: AbortSignal | undefined): Promise<boolean> {
    let full = false;
    for (;;) {
      if (signal?.aborted === true) return false;
      const waiting = await this.waiting();
      if (waiting + count <= this.#maxWaiting) {
        if (full) this.#options.onRoom?.(waiting);
        return true;
      }
      if (!full) this.#options.onFull?.(waiting);
      full = true;
      const slept = await sleep(this.#pollMs, true, signal === undefined ? undefined : { signal }).catch(() => false);
      if (!slept) return false;
    }
  }
}
