import { once } from 'node:events';
import { ExitCode } from '../../errors.js';
import type { ObjectRef } from '../../mastodon/object-ref.js';
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
        // One write a batch; respect a slow reader (a pipe into another tool) instead of buffering millions of lines.
        if (!process.stdout.write(keyLines(batch.refs))) await once(process.stdout, 'drain');
      }
    }
    return ExitCode.ok;
  } finally {
    await database.close();
  }
}

/**
 * The keys as UTF-8 lines, encoded straight into one buffer: joining them into a string first
 * would keep thousands of intermediate strings alive for the garbage collector to copy.
 */
function keyLines(refs: readonly ObjectRef[]): Buffer {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit; then the newline.
  const lines = Buffer.allocUnsafe(refs.reduce((bytes, ref) => bytes + ref.key.length * 3 + 1, 0));
  let length = 0;
  for (const { key } of refs) {
    length += lines.write(key, length);
    lines[length++] = 0x0a;
  }
  return lines.subarray(0, length);
}
