import { ExitCode } from '../../errors.js';
import type { ObjectRef } from '../../mastodon/object-ref.js';
import { referencedObjects, resolveJobs } from '../../sync/plan.js';
import { connectDatabase, loadDatabaseCommandConfig, parseJobNames, type CommonOptions } from '../context.js';
import { lineOutput } from '../output-file.js';

export interface KeysCommandOptions extends CommonOptions {
  limit?: number;
}

/** Prints every key the database references, one a line, without touching any storage. */
export async function keysCommand(jobArguments: string[], options: KeysCommandOptions): Promise<number> {
  const requestedJobs = parseJobNames(jobArguments);
  const config = await loadDatabaseCommandConfig(options);
  const database = await connectDatabase(config);
  const output = await lineOutput(undefined);
  try {
    for (const job of await resolveJobs(database, requestedJobs)) {
      for await (const batch of referencedObjects(database, job, { limit: options.limit, batchSize: config.sync.batch_size })) {
        // The reader has seen enough (`keys | head`): no need to read the rest of the database.
        if (!(await output.write(keyLines(batch.refs)))) return ExitCode.ok;
      }
    }
    return ExitCode.ok;
  } finally {
    await database.close();
  }
}

/** The keys, a line each. */
function keyLines(refs: readonly ObjectRef[]): string {
  let lines = '';
  for (const { key } of refs) lines += `${key}\n`;
  return lines;
}
