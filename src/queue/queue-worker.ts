import { Worker, type Job } from 'bullmq';
import { bullConnection, copyQueueName, type QueueSettings } from './queue-settings.js';
import { TaskFailedError } from './task-failed-error.js';

/** One task as the processor sees it. */
export interface QueueTask<T> {
  id: string;
  /** The job it belongs to (`accounts`, `media_attachments`...). */
  name: string;
  data: T;
  /** Times a worker began it, this run included: more than 1 after a worker died holding it. */
  attemptsStarted: number;
}

/** The lock a worker holds on a task while it runs it: the Redis key, and this worker's token in it. */
export interface TaskLock {
  key: string;
  token: string;
}

/** A task being run: what its outcome is counted under, so that only the lock's holder counts it. */
export interface RunningTask<T> extends QueueTask<T> {
  lock: TaskLock;
}

export interface TaskResult {
  /** Set when the task failed for good: the queue records it as failed, with this reason, and never runs it again. */
  failure?: string;
}

/** The work: the same function the in-process pool runs, wrapped to report its outcome. */
export type TaskProcessor<T> = (task: RunningTask<T>) => Promise<TaskResult>;

export interface QueueWorkerOptions<T> extends QueueSettings {
  /** Tasks in flight in this process. */
  concurrency: number;
  /**
   * How long a task stays locked to this worker without a renewal. The worker
   * renews it every half of this while the task runs, however long a transfer
   * takes; when a worker dies, its tasks go back to the queue within about 1.5×
   * this (the stalled check runs every half of it, on every other worker).
   * @defaultValue 60000
   */
  lockDurationMs?: number;
  /**
   * Times a task may be orphaned by a dying worker and run again before it is
   * failed (an object that crashes every worker that touches it).
   * @defaultValue 2
   */
  maxStalledCount?: number;
  /** Stored on each task it runs (BullMQ's worker name). */
  name?: string;
  /**
   * Hears of a task that failed without the processor's word: stalled too
   * often, or the processor threw. The processor's own failures are not repeated here.
   */
  onUnaccountedFailure?: (task: QueueTask<T>, reason: string) => void | Promise<void>;
  /** Hears of a task taken back from a worker that stopped renewing its lock. */
  onStalled?: (taskId: string) => void;
  /** Hears of connection and other errors BullMQ reports without failing a task. */
  onError?: (error: Error) => void;
}

const defaultLockDurationMs = 60_000;

/**
 * The consumer side: a BullMQ Worker that runs `processor` on each task. What
 * a task does is none of its business; it maps the processor's failure to a
 * failed job with its reason, and can hand unfinished tasks back at a forced stop.
 */
export class QueueWorker<T> {
  readonly #worker: Worker<T, null, string>;
  readonly #active = new Map<string, { job: Job<T, null, string>; token: string }>();

  constructor(options: QueueWorkerOptions<T>, processor: TaskProcessor<T>) {
    const lockDuration = options.lockDurationMs ?? defaultLockDurationMs;
    this.#worker = new Worker<T, null, string>(
      copyQueueName,
      async (job, token) => {
        const id = job.id ?? '';
        // A worker's own run() always hands its processor the token of the lock it took.
        if (token === undefined) throw new Error(`BullMQ gave task ${id} no lock token`);
        this.#active.set(id, { job, token });
        try {
          const lock = { key: this.#worker.toKey(`${id}:lock`), token };
          const result = await processor({ id, name: job.name, data: job.data, attemptsStarted: job.attemptsStarted, lock });
          if (result.failure !== undefined) throw new TaskFailedError(result.failure);
          return null;
        } finally {
          this.#active.delete(id);
        }
      },
      {
        connection: bullConnection(options),
        prefix: options.prefix,
        concurrency: options.concurrency,
        autorun: false,
        lockDuration,
        stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
        maxStalledCount: options.maxStalledCount ?? 2,
        ...(options.name !== undefined ? { name: options.name } : {}),
      },
    );
    this.#worker.on('failed', (job, error) => {
      if (job === undefined || error instanceof TaskFailedError) return;
      void options.onUnaccountedFailure?.({ id: job.id ?? '', name: job.name, data: job.data, attemptsStarted: job.attemptsStarted }, error.message);
    });
    this.#worker.on('stalled', (id) => options.onStalled?.(id));
    this.#worker.on('error', (error) => options.onError?.(error));
  }

  /** Takes tasks until `close()`; resolves once closed. */
  run(): Promise<void> {
    return this.#worker.run();
  }

  /** Tasks running in this process right now. */
  get active(): number {
    return this.#active.size;
  }

  /** Stops taking tasks and waits for those in flight (or, with `force`, does not wait). */
  close(force = false): Promise<void> {
    return this.#worker.close(force);
  }

  /**
   * Gives the tasks in flight back to the queue at once, for a stop that cannot
   * wait for them: another worker runs them without waiting for their locks to expire.
   */
  async release(): Promise<number> {
    const active = [...this.#active.values()];
    this.#active.clear();
    const results = await Promise.allSettled(active.map(({ job, token }) => job.moveToWait(token)));
    return results.filter((result) => result.status === 'fulfilled').length;
  }
}
