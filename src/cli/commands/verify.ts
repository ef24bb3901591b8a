import { counted } from '../../log.js';
import { loadCommandConfig, openDatabaseAndStorages, parseJobNames, commandLogger, exitOnInterrupt, type CommonOptions } from '../context.js';
import { ExitCode, UserError } from '../../errors.js';
import { resolveJobs } from '../../sync/plan.js';
import { verifyDestination, type VerifyCounts, type VerifyProblem } from '../../sync/verify.js';
import { defaultRetryPolicy } from '../../transfer/retry.js';
import { formatBytes, textTable } from '../format.js';
import { lineOutput } from '../output-file.js';
import { emptySourceHint } from '../empty-source.js';

export interface VerifyCommandOptions extends CommonOptions {
  limit?: number;
  localOnly?: boolean;
  concurrency?: number;
}

const columns = ['job', 'keys', 'ok', 'missing', 'differs', 'not in source'] as const;

/**
 * Checks the destination against the source for every referenced key, and
 * exits 1 when an object is missing or differs. Reads only: nothing is written
 * to the storages, the database or the state file.
 */
export async function verifyCommand(jobArguments: string[], options: VerifyCommandOptions): Promise<number> {
  const requestedJobs = parseJobNames(jobArguments);
  const config = await loadCommandConfig(options);
  const log = await commandLogger(options);
  const { database, source, destination } = await openDatabaseAndStorages(config, { mode: 'read' });
  const output = await lineOutput(undefined);
  const stopExitingOnInterrupt = exitOnInterrupt();
  try {
    const jobs = await resolveJobs(database, requestedJobs);
    const counts = await verifyDestination(
      { database, source, destination, log },
      {
        jobs,
        query: { limit: options.limit, batchSize: config.sync.batch_size },
        localOnly: options.localOnly === true,
        parallel: options.concurrency ?? 8,
        retry: defaultRetryPolicy,
      },
      // Once stdout's reader has gone (`| head`) the rest is not written; the exit code still counts every problem.
      async (problem) => {
        await output.write(options.json === true ? `${JSON.stringify(problem)}\n` : problemLine(problem));
      },
    );
    const keys = counts.reduce((sum, job) => sum + job.keys, 0);
    // Nothing was compared: a pass would only say that [source] is not where the instance keeps its media,
    // and a table would count as ok every key the destination holds. (With no key in the source, no problem was written.)
    if (keys > 0 && counts.every((job) => job.inSource === 0)) throw new UserError(`${await emptySourceHint(config.source, source.description, keys)}; nothing was verified`, 'verify.empty-source');
    const problems = counts.reduce((sum, job) => sum + job.missing + job.differs, 0);
    await output.write(options.json === true ? `${JSON.stringify({ verify: counts, problems })}\n` : `${countsTable(counts)}\n`);
    if (options.json !== true) {
      // A file has no ETag: where either side is a directory, a pass says no more than the sizes do.
      const compared = config.source.type === 'fs' || config.destination.type === 'fs' ? 'a directory keeps no MD5, so sizes only' : 'and MD5 where both ETags are single-part';
      process.stderr.write(
        problems === 0
          ? `verified: every referenced object the source has is in ${destination.description} with the same size (${compared})\n`
          : // --inventory checks the destination against the state file, which a source changed in place still matches.
            `${counted(problems, 'object')} missing or different in ${destination.description}: sync --inventory copies again what changed at the destination, sync --no-state also what changed in the source\n`,
      );
    }
    return problems === 0 ? ExitCode.ok : ExitCode.someObjectsFailed;
  } finally {
    stopExitingOnInterrupt();
    await Promise.all([source.close(), destination.close()]);
    await database.close();
  }
}

function problemLine(problem: VerifyProblem): string {
  switch (problem.problem) {
    case 'missing':
      return `missing       ${problem.key} (${formatBytes(problem.sourceSize ?? 0)} in the source)\n`;
    case 'size-differs':
      return `size differs  ${problem.key} (source ${problem.sourceSize} bytes, destination ${problem.destinationSize} bytes)\n`;
    case 'md5-differs':
      return `md5 differs   ${problem.key} (source ${problem.sourceEtag}, destination ${problem.destinationEtag})\n`;
  }
}

function countsTable(counts: readonly VerifyCounts[]): string {
  const row = (name: string, job: Omit<VerifyCounts, 'job' | 'inSource'>): string[] => [name, String(job.keys), String(job.ok), String(job.missing), String(job.differs), String(job.notInSource)];
  const rows = counts.map((job) => row(job.job, job));
  if (counts.length > 1) {
    const total = (pick: (job: VerifyCounts) => number): number => counts.reduce((sum, job) => sum + pick(job), 0);
    rows.push(row('total', { keys: total((j) => j.keys), ok: total((j) => j.ok), missing: total((j) => j.missing), differs: total((j) => j.differs), notInSource: total((j) => j.notInSource) }));
  }
  return textTable(columns, rows);
}
