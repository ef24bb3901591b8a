import { KeyIndex, type KeyComparison } from '../journal/key-index.js';
import { counted, type Logger } from '../log.js';
import type { MastodonDatabase, RowQuery } from '../mastodon/database.js';
import { isCachedRemoteMedia, type JobName } from '../mastodon/object-ref.js';
import type { Storage } from '../storage/storage.js';
import { isSameObject } from '../transfer/copy-object.js';
import type { RetryPolicy } from '../transfer/retry.js';
import { jobPrefixes, listPrefixes } from './listing.js';
import { cutPointsFromDatabase } from './listing-cuts.js';
import { referencedKey, referencedObjects } from './plan.js';

export interface VerifyOptions {
  jobs: JobName[];
  query: RowQuery;
  /** Leave out `cache/` keys, as `sync --local-only` does. */
  localOnly?: boolean;
  /** Listings in flight per storage. @defaultValue 8 */
  parallel?: number;
  retry: RetryPolicy;
}

export interface VerifyDependencies {
  database: MastodonDatabase;
  source: Storage;
  destination: Storage;
  log: Logger;
}

export type VerifyProblemKind =
  /** The source has it, the destination does not. */
  | 'missing'
  /** Both have it, with different sizes. */
  | 'size-differs'
  /** Same size, but both ETags are single-part MD5s and they differ. */
  | 'md5-differs';

export interface VerifyProblem {
  job: string;
  key: string;
  problem: VerifyProblemKind;
  sourceSize?: number;
  destinationSize?: number;
  sourceEtag?: string;
  destinationEtag?: string;
}

export interface VerifyCounts {
  job: string;
  /** Keys the database references. */
  keys: number;
  /** At the destination with the source's size (and MD5 where comparable). */
  ok: number;
  missing: number;
  differs: number;
  /** In neither storage: nothing to copy, so not a problem of the copy (sync reports these as missing or absent). */
  notInSource: number;
  /** Held by the source: the keys actually compared (none at all means a [source] that is not the instance's). */
  inSource: number;
}

/**
 * Proves a migration: every key the database references is at the destination
 * with the size it has in the source (and the same MD5 when both ETags are
 * single-part). Reads the database, then lists both storages under the jobs'
 * prefixes, in parallel, and compares in a scratch SQLite file. Writes
 * nothing to either storage, the database or the state file.
 */
export async function verifyDestination(
  dependencies: VerifyDependencies,
  options: VerifyOptions,
  onProblem: (problem: VerifyProblem) => void | Promise<void>,
): Promise<VerifyCounts[]> {
  const { database, source, destination, log } = dependencies;
  const index = KeyIndex.open();
  try {
    // The database first: an object uploaded after this point cannot be reported missing for a row read before it.
    for (const job of options.jobs) {
      for await (const batch of referencedObjects(database, job, options.query)) {
        const refs = options.localOnly === true ? batch.refs.filter((ref) => !isCachedRemoteMedia(ref.key)) : batch.refs;
        index.addReferenced(refs.map(referencedKey));
      }
    }
    const prefixes = jobPrefixes(options.jobs, options.localOnly);
    const listing = { retry: options.retry, parallel: options.parallel ?? 8, cutPoints: cutPointsFromDatabase(database, options.jobs) };
    log.info(`${counted(index.referencedCount(), 'key')} referenced; listing ${source.description} and ${destination.description} (${counted(prefixes.length, 'prefix', 'prefixes')} each)`);
    const [sourceCount, destinationCount] = await Promise.all([
      listPrefixes(source, prefixes, (entries) => index.addListed('source', entries), listing),
      listPrefixes(destination, prefixes, (entries) => index.addListed('destination', entries), listing),
    ]);
    log.info(`listed ${counted(sourceCount, 'object')} in the source and ${destinationCount} in the destination`);

    const counts = new Map<string, VerifyCounts>(options.jobs.map((job) => [job, { job, keys: 0, ok: 0, missing: 0, differs: 0, notInSource: 0, inSource: 0 }]));
    for (const comparison of index.compare()) {
      const jobCounts = counts.get(comparison.job)!;
      jobCounts.keys += 1;
      if (comparison.source !== undefined) jobCounts.inSource += 1;
      const problem = judge(comparison);
      if (problem === undefined) {
        if (comparison.source === undefined && comparison.destination === undefined) jobCounts.notInSource += 1;
        else jobCounts.ok += 1;
        continue;
      }
      if (problem.problem === 'missing') jobCounts.missing += 1;
      else jobCounts.differs += 1;
      await onProblem(problem);
    }
    return [...counts.values()];
  } finally {
    index.close();
  }
}

function judge({ job, key, source, destination }: KeyComparison): VerifyProblem | undefined {
  // Not in the source: whatever the destination holds is all there is (sync reported it missing or absent).
  if (source === undefined) return undefined;
  const sizes = { sourceSize: source.size, ...(destination !== undefined ? { destinationSize: destination.size } : {}) };
  if (destination === undefined) return { job, key, problem: 'missing', ...sizes };
  if (source.size !== destination.size) return { job, key, problem: 'size-differs', ...sizes };
  if (!isSameObject({ ...source }, { ...destination })) {
    return { job, key, problem: 'md5-differs', ...sizes, ...(source.etag !== undefined ? { sourceEtag: source.etag } : {}), ...(destination.etag !== undefined ? { destinationEtag: destination.etag } : {}) };
  }
  return undefined;
}
