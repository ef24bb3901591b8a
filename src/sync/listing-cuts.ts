import type { MastodonDatabase } from '../mastodon/database.js';
import { idPartition } from '../mastodon/id-partition.js';
import type { JobName } from '../mastodon/object-ref.js';
import { attachmentPrefixes } from './listing.js';

/**
 * Cut points for listing the jobs' objects (ListingOptions.cutPoints): the id
 * partitions of each table's id quantiles, under each attachment prefix that
 * lies within the prefix being listed. Quantiles rather than evenly spaced ids,
 * because snowflake ids follow time and an instance grows unevenly: equal
 * numbers of rows make ranges of alike numbers of objects.
 */
export function cutPointsFromDatabase(database: MastodonDatabase, jobs: readonly JobName[]): (prefix: string, parts: number) => Promise<string[]> {
  const quantiles = new Map<string, Promise<string[]>>();
  const idsOf = (job: JobName, parts: number): Promise<string[]> => {
    const key = `${job} ${parts}`;
    let ids = quantiles.get(key);
    // Cut points only speed a listing up: without them the prefix is listed to its end in one sequence.
    if (ids === undefined) quantiles.set(key, (ids = database.idQuantiles(job, parts).catch(() => [])));
    return ids;
  };
  return async (prefix, parts) => {
    const cuts: string[] = [];
    for (const job of jobs) {
      const paths = attachmentPrefixes(job).filter((path) => path.startsWith(prefix));
      if (paths.length === 0) continue;
      const ids = await idsOf(job, parts);
      for (const path of paths) for (const id of ids) cuts.push(`${path}${idPartition(id)}/`);
    }
    return cuts;
  };
}
