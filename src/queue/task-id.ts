import { createHash } from 'node:crypto';

/**
 * The queue's job id for one object: the same destination and key always give the same id,
 * so that adding a task BullMQ still holds (waiting, active, failed) adds nothing.
 *
 * A hash rather than the key itself: 21 characters a job whatever the key's length, and
 * never an integer or a `:` (BullMQ reserves both). The destination identity is part of
 * it, so one Redis can hold the queues of several migrations without collisions.
 */
export function taskId(destinationIdentity: string, key: string): string {
  return `k${createHash('sha256').update(destinationIdentity).update('\n').update(key).digest('base64url').slice(0, 20)}`;
}
