import { UserError } from '../errors.js';
import type { MastodonDatabase, RowQuery } from '../mastodon/database.js';
import { jobNames, type JobName, type ObjectRef } from '../mastodon/object-ref.js';
import { pushObjectRefs } from '../mastodon/object-refs.js';
import type { ReferencedKey } from '../journal/key-index.js';

/** The jobs to run: those asked for, or every job whose table this database has. */
export async function resolveJobs(database: MastodonDatabase, requested: readonly JobName[]): Promise<JobName[]> {
  const available = await database.availableJobs();
  if (requested.length === 0) return jobNames.filter((job) => available.includes(job));
  for (const job of requested) {
    if (!available.includes(job)) {
      throw new UserError(`this database has no ${job} table${job === 'imports' ? ' (Mastodon 4.4 dropped it)' : ''}: leave the job out`, 'job.no-table');
    }
  }
  return [...new Set(requested)];
}

export interface ReferencedBatch {
  rows: number;
  refs: ObjectRef[];
}

/** Every object the job's rows reference, in id order, a batch of rows at a time. */
export async function* referencedObjects(database: MastodonDatabase, job: JobName, query: RowQuery): AsyncGenerator<ReferencedBatch> {
  for await (const rows of database.rows(job, query)) {
    const refs: ObjectRef[] = [];
    for (const row of rows) pushObjectRefs(job, row, refs);
    yield { rows: rows.length, refs };
  }
}

/** What the scratch index of `verify` and `orphans` keeps of each referenced object. */
export function referencedKey(ref: ObjectRef): ReferencedKey {
  return { job: ref.job, key: ref.key, ...(ref.alternateKey !== undefined ? { alternateKey: ref.alternateKey } : {}), required: ref.required };
}
