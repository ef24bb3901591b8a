import { once } from 'node:events';
import { ExitCode } from '../../errors.js';
import { referencedObjects, resolveJobs } from '../../sync/plan.js';
import { connectDatabase, loadDatabaseCommandConfig, parseJobNames, type CommonOptions } from '../context.js';

export interface KeysCommandOptions extends CommonOptions {
  limit?: number;
}

/** Prints every key the database references, one a line, without touching any storage. */
export async function keysCommand(jobArguments: string[], options: KeysCommandOptions): Promise<number> {
  const requestedJobs = parseJobNames(jobArguments);
  const config = await loadDatabaseCommandConfig(options);
  const database = await connectDatabase(config);
  try {
    for (const job of await resolveJobs(database, requestedJobs)) {
      for await (const batch of referencedObjects(database, job, { limit: options.limit, batchSize: config.sync.batch_size })) {
        const text = batch.refs.map((ref) => `${ref.key}\n`).join('');
        // Respect a slow reader (a pipe into another tool) instead of buffering millions of lines.
        if (!process.stdout.write(text)) await once(process.stdout, 'drain');
      }
    }
    return ExitCode.ok;
  } finally {
    await database.close();
  }
}
