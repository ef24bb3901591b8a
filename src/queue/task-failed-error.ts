import { UnrecoverableError } from 'bullmq';

/**
 * A task the processor gave up on, after its own retries: BullMQ records the job
 * as failed with this message and never runs it again (an UnrecoverableError
 * ignores any attempts left), so that no failure is retried twice over.
 */
export class TaskFailedError extends UnrecoverableError {
  override readonly name = 'TaskFailedError';
}
