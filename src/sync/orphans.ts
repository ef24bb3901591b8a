import { KeyIndex } from '../journal/key-index.js';
import type { InventoryEntry } from '../journal/journal-scope.js';
import { counted, type Logger } from '../log.js';
import type { MastodonDatabase } from '../mastodon/database.js';
import { mastodonClassPrefixes, parseMastodonKey, type ParsedKey } from '../mastodon/mastodon-key-parser.js';
import type { JobName } from '../mastodon/object-ref.js';
import type { Storage } from '../storage/storage.js';
import type { RetryPolicy } from '../transfer/retry.js';
import { listEverything } from './listing.js';
import { cutPointsFromDatabase } from './listing-cuts.js';
import { referencedKey, referencedObjects } from './plan.js';

export interface OrphanOptions {
  /** The jobs whose tables this database has: their rows reference the objects that are not orphans. */
  jobs: JobName[];
  batchSize?: number;
  /** Listings in flight. @defaultValue 8 */
  parallel?: number;
  retry: RetryPolicy;
}

export interface OrphanDependencies {
  database: MastodonDatabase;
  storage: Storage;
  log: Logger;
}

export interface OrphanCounts {
  /** Objects in the storage. */
  listed: number;
  /** Objects some row references (at the key Mastodon computes, or at its other `cache/` variant). */
  referenced: number;
  orphans: number;
  orphanBytes: number;
  /** Objects that are not Mastodon-shaped: counted, never called orphans. */
  unrecognized: number;
  unrecognizedBytes: number;
  /** Orphans per job (class). */
  byJob: Record<string, number>;
}

export interface OrphanListener {
  orphan(entry: InventoryEntry, parsed: ParsedKey): void | Promise<void>;
  unrecognized?(entry: InventoryEntry): void | Promise<void>;
}

/**
 * Objects of `storage` that no database row references, recognising only
 * Mastodon-shaped keys (as `tootctl media remove-orphans` does). The storage is
 * listed first and the database read after, so that an upload finishing
 * in between is never taken for an orphan (its row is committed before its
 * file appears). Sets live in a scratch SQLite file, not in memory. Read-only:
 * nothing is deleted or written, the state file included.
 */
export async function findOrphans(dependencies: OrphanDependencies, options: OrphanOptions, listener: OrphanListener): Promise<OrphanCounts> {
  const { database, storage, log } = dependencies;
  const index = KeyIndex.open();
  try {
    log.info(`listing ${storage.description}`);
    await listEverything(storage, mastodonClassPrefixes, (entries) => index.addListed('source', entries), {
      retry: options.retry,
      parallel: options.parallel ?? 8,
      cutPoints: cutPointsFromDatabase(database, options.jobs),
    });
    const listed = index.listedCount('source');
    log.info(`listed ${counted(listed, 'object')}; reading which ones the database references`);
    for (const job of options.jobs) {
      for await (const batch of referencedObjects(database, job, { batchSize: options.batchSize })) {
        index.addReferenced(batch.refs.map(referencedKey));
      }
    }
    const counts: OrphanCounts = { listed, referenced: listed, orphans: 0, orphanBytes: 0, unrecognized: 0, unrecognizedBytes: 0, byJob: {} };
    for (const entry of index.unreferenced('source')) {
      counts.referenced -= 1;
      const parsed = parseMastodonKey(entry.key);
      if (parsed === undefined) {
        counts.unrecognized += 1;
        counts.unrecognizedBytes += entry.size;
        await listener.unrecognized?.(entry);
        continue;
      }
      counts.orphans += 1;
      counts.orphanBytes += entry.size;
      counts.byJob[parsed.job] = (counts.byJob[parsed.job] ?? 0) + 1;
      await listener.orphan(entry, parsed);
    }
    return counts;
  } finally {
    index.close();
  }
}
