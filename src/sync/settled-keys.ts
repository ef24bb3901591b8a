import { settledOutcomes, type JournalScope, type RecordedOutcome } from '../journal/journal-scope.js';
import type { MastodonDatabase, RowQuery } from '../mastodon/database.js';
import { isCachedRemoteMedia, type JobName, type ObjectRef } from '../mastodon/object-ref.js';
import type { RunStats } from '../stats/run-stats.js';
import { singlePartMd5, type Acl, type ObjectInfo } from '../storage/storage.js';
import { needsAclWrite, type CopyTask } from '../transfer/copy-object.js';
import { referencedObjects } from './plan.js';

/** What decides which of a job's keys become copy tasks. */
export interface TaskOptions {
  query: RowQuery;
  /** The ACL an object gets, from the admin's choice and whether Mastodon keeps it private. */
  aclFor: (isPrivate: boolean) => Acl | undefined;
  /** Leave out `cache/` objects (remote media Mastodon can fetch again). */
  localOnly?: boolean;
  /** Only the keys the journal holds as failed or missing. */
  retryFailed?: boolean;
}

export interface PlanState {
  database: MastodonDatabase;
  stats: RunStats;
  signal?: AbortSignal;
  journal: JournalScope | undefined;
  /** A destination listing was taken this run: the journal's entries are checked against it. */
  inventoryFresh: boolean;
}

/**
 * The job's copy tasks, read from the database a page at a time. Keys the
 * journal holds as settled are counted here, without a request, unless a fresh
 * listing of the destination contradicts it (object gone, or another size).
 * The journal (and the listing) are asked about a whole page at once.
 */
export async function* copyTasks(job: JobName, options: TaskOptions, state: PlanState): AsyncGenerator<CopyTask> {
  const { database, stats, signal, journal } = state;
  for await (const batch of referencedObjects(database, job, options.query)) {
    if (signal?.aborted === true) return;
    const refs = options.localOnly === true ? batch.refs.filter((ref) => !isCachedRemoteMedia(ref.key)) : batch.refs;
    const known = journal?.outcomes(refs.map((ref) => ref.key));
    const considered = options.retryFailed === true ? refs.filter((ref) => isRetryable(known?.get(ref.key))) : refs;
    stats.rowsRead(job, batch.rows, considered.length);
    const listing = state.inventoryFresh ? journal?.inventoryEntries(considered.map((ref) => ref.key)) : undefined;
    for (const ref of considered) {
      const recorded = known?.get(ref.key);
      const listed = state.inventoryFresh ? (listing?.get(ref.key) ?? null) : undefined;
      const acl = options.aclFor(ref.private);
      if (options.retryFailed !== true && recorded !== undefined && isSettled(recorded, listed, acl)) {
        settleFromJournal(stats, recorded, job);
        continue;
      }
      yield toCopyTask(ref, acl, recorded, listed);
    }
  }
}

/** What --retry-failed asks about again: the keys the journal holds as failed or missing. */
function isRetryable(known: RecordedOutcome | undefined): boolean {
  return known !== undefined && (known.outcome === 'failed' || known.outcome === 'missing');
}

/**
 * Settled in the journal, with the ACL Mastodon wants now (an account suspended since, or a status
 * deleted, makes its media private), and (when the destination was just listed) still there with
 * the size and MD5 recorded.
 */
function isSettled(known: RecordedOutcome, listed: ObjectInfo | null | undefined, acl: Acl | undefined): boolean {
  if (!settledOutcomes.includes(known.outcome)) return false;
  if (known.outcome !== 'copied' && known.outcome !== 'skipped') return true;
  if (needsAclWrite(acl, recordedAcl(known))) return false;
  if (listed === undefined) return true;
  if (listed === null || (known.size !== null && listed.size !== known.size)) return false;
  return known.etag === null || listed.etag === undefined || !singlePartMd5.test(listed.etag) || listed.etag.toLowerCase() === known.etag;
}

const recordedAcl = (known: RecordedOutcome): Acl | undefined => (known.acl === 'private' || known.acl === 'public-read' ? known.acl : undefined);

function settleFromJournal(stats: RunStats, known: RecordedOutcome, job: JobName): void {
  stats.transferStarted(job);
  stats.objectDone({
    job,
    key: known.key,
    // Copied by an earlier run: already there now.
    outcome: known.outcome === 'copied' ? 'skipped' : known.outcome,
    bytes: known.outcome === 'copied' || known.outcome === 'skipped' ? (known.size ?? 0) : 0,
    ...(known.reason !== null ? { reason: known.reason } : {}),
    fromJournal: true,
  });
}

function toCopyTask(ref: ObjectRef, acl: Acl | undefined, recorded: RecordedOutcome | undefined, listed: ObjectInfo | null | undefined): CopyTask {
  const writtenAcl = recorded?.outcome === 'copied' ? recordedAcl(recorded) : undefined;
  return {
    job: ref.job,
    key: ref.key,
    alternateKey: ref.alternateKey,
    required: ref.required,
    acl,
    ...(writtenAcl !== undefined ? { writtenAcl } : {}),
    ...(listed !== undefined ? { destinationInfo: listed } : {}),
  };
}
