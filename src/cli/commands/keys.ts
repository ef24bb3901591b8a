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
  const output = new ListingOutput(process.stdout);
  try {
    for (const job of await resolveJobs(database, requestedJobs)) {
      for await (const batch of referencedObjects(database, job, { limit: options.limit, batchSize: config.sync.batch_size })) {
        if (!(await output.write(keyLines(batch.refs)))) return ExitCode.ok;
      }
    }
    return ExitCode.ok;
  } finally {
    await database.close();
  }
}

/**
 * stdout for a listing: one write a batch, waiting for a slow reader (a pipe into another tool)
 * instead of buffering millions of lines, and ending quietly when the reader has seen enough
 * (`keys | head` closes the pipe: EPIPE is no failure of ours).
 */
class ListingOutput {
  #error: NodeJS.ErrnoException | undefined;

  constructor(readonly stream: NodeJS.WriteStream) {
    // Kept for the life of the process: the EPIPE of the last write may arrive after the command returned.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.#error ??= error;
    });
  }

  /** False once the reader has gone. */
  async write(data: string): Promise<boolean> {
    if (this.#error === undefined && !this.stream.write(data)) await once(this.stream, 'drain').catch(() => undefined);
    if (this.#error?.code === 'EPIPE') return false;
    if (this.#error !== undefined) throw this.#error;
    return true;
  }
}

/** The keys, a line each. */
function keyLines(refs: readonly ObjectRef[]): string {
  let lines = '';
  for (const { key } of refs) lines += `${key}\n`;
  return lines;
}
