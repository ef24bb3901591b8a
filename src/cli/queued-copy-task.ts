import type { Acl } from '../storage/storage.js';
import type { CopyTask } from '../transfer/copy-object.js';

const acls: readonly Acl[] = ['private', 'public-read'];

/** What `enqueue` puts in a task, checked before any request is made. */
export function isCopyTask(data: unknown): data is CopyTask {
  if (typeof data !== 'object' || data === null) return false;
  const task = data as Record<string, unknown>;
  return (
    typeof task['job'] === 'string' &&
    typeof task['key'] === 'string' &&
    task['key'] !== '' &&
    typeof task['required'] === 'boolean' &&
    (task['alternateKey'] === undefined || typeof task['alternateKey'] === 'string') &&
    (task['acl'] === undefined || acls.includes(task['acl'] as Acl))
  );
}

/**
 * The key a task's entry in the run's latest failures names: its object's, or the task's id when it
 * holds no copy task. The worker records failures under it and `enqueue --retry-failed` takes them
 * off by it, so both must read it alike.
 */
export function failureKey(task: { id?: string | undefined; data: unknown }): string {
  return isCopyTask(task.data) ? task.data.key : (task.id ?? '');
}
