import { loadDatabaseCommandConfig, connectDatabase, commandLogger, exitOnInterrupt, inSection, type CommonOptions } from '../context.js';
import { ExitCode, UserError } from '../../errors.js';
import type { InventoryEntry } from '../../journal/journal-scope.js';
import type { ParsedKey } from '../../mastodon/mastodon-key-parser.js';
import { createStorage } from '../../storage/create-storage.js';
import { resolveJobs } from '../../sync/plan.js';
import { findOrphans } from '../../sync/orphans.js';
import { defaultRetryPolicy } from '../../transfer/retry.js';
import { formatBytes } from '../format.js';
import { unshapedStorageHint } from '../empty-source.js';
import { csvField, formatOfFile, lineOutput } from '../output-file.js';
import { storageOptions } from '../runtime-options.js';

export interface OrphansCommandOptions extends CommonOptions {
  in: 'source' | 'destination';
  format?: 'text' | 'csv' | 'jsonl';
  output?: string;
  unrecognized?: boolean;
}

/**
 * Lists the objects of [source] or [destination] that no database row
 * references. Read-only: it never deletes; the keys go to stdout (or --output)
 * and the counts to stderr.
 */
export async function orphansCommand(options: OrphansCommandOptions): Promise<number> {
  const config = await loadDatabaseCommandConfig(options);
  // Only the storage listed is needed: --in source before the new storage exists, as tootctl would look.
  const section = config[options.in];
  if (section === undefined) {
    throw new UserError(`[${options.in}] is missing: add the section to the config file, or list --in ${options.in === 'source' ? 'destination' : 'source'}`, 'config.invalid');
  }
  const log = await commandLogger(options);
  const format = options.format ?? formatOfFile(options.output) ?? (options.json === true ? 'jsonl' : 'text');
  const database = await connectDatabase(config);
  const stopExitingOnInterrupt = exitOnInterrupt();
  try {
    const storage = createStorage(storageOptions(section, config));
    try {
      await storage.check('read').catch((error: unknown) => Promise.reject(inSection(options.in, error)));
      const jobs = await resolveJobs(database, []);
      const output = await lineOutput(options.output);
      if (format === 'csv') await output.write('kind,job,key,size\n');
      const line = (kind: 'orphan' | 'unrecognized', entry: InventoryEntry, parsed?: ParsedKey): string => {
        switch (format) {
          case 'text':
            return `${entry.key}\n`;
          case 'csv':
            return `${[kind, parsed?.job ?? '', entry.key, String(entry.size)].map(csvField).join(',')}\n`;
          case 'jsonl':
            return `${JSON.stringify({ kind, job: parsed?.job ?? null, key: entry.key, size: entry.size })}\n`;
        }
      };
      const counts = await findOrphans(
        { database, storage, log },
        { jobs, batchSize: config.sync.batch_size, retry: defaultRetryPolicy },
        {
          // Once stdout's reader has gone (`| head`) the rest is not written, and the counts still come.
          orphan: async (entry, parsed) => {
            await output.write(line('orphan', entry, parsed));
          },
          ...(options.unrecognized === true
            ? {
                unrecognized: async (entry: InventoryEntry) => {
                  await output.write(line('unrecognized', entry));
                },
              }
            : {}),
        },
      );
      await output.close();
      const perJob = Object.entries(counts.byJob)
        .map(([job, count]) => `${job} ${count}`)
        .join(', ');
      process.stderr.write(
        `${storage.description}: ${counts.listed} objects, ${counts.referenced} referenced, ${counts.orphans} orphans (${formatBytes(counts.orphanBytes)}${perJob === '' ? '' : `; ${perJob}`}), ` +
          `${counts.unrecognized} not Mastodon-shaped (${formatBytes(counts.unrecognizedBytes)}${counts.unrecognized > 0 && options.unrecognized !== true ? '; list them with --unrecognized' : ''}). Nothing was deleted.\n`,
      );
      // Orphans of a wrong path or prefix would all be listed as not Mastodon-shaped, and the run would look clean.
      if (counts.listed > 0 && counts.unrecognized === counts.listed) {
        process.stderr.write(`${await unshapedStorageHint(options.in, section, storage.description, counts.listed)}\n`);
      }
      return ExitCode.ok;
    } finally {
      await storage.close();
    }
  } finally {
    stopExitingOnInterrupt();
    await database.close();
  }
}
