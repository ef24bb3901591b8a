import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, UserError } from '../errors.js';
import { jobNames } from '../mastodon/object-ref.js';
import { maxConcurrency } from '../config/limits.js';
import { defaultGraceSeconds, maxGraceSeconds, parsePort, parsePositiveInteger } from './option-parsers.js';
import { parseQueueUrl } from './queue-options.js';

const programName = 'mastodon-s3-sync';
// package.json sits two folders up from both src/cli and dist/cli.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

// Each command takes only the shared options that change what it does: --help then promises
// nothing it ignores, and a flag it would ignore is an unknown option, not a silent no-op.

const configOption = (): Option => new Option('-c, --config <path>', 'config file (default: $MASTODON_S3_SYNC_CONFIG or private/config.ini)');

/** For the commands that read [database] or [source]. */
const mastodonEnvOption = (): Option => new Option('--mastodon-env <path>', "read [database] and [source] from Mastodon's .env.production (the config file and variables still win)");

/** For the commands that copy: the absent derived styles are all it adds to the log. */
const verboseOption = (): Option => new Option('-v, --verbose', 'also log derived styles absent from the source');

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command(programName)
    .description('Copy exactly the media a Mastodon database references from one storage to another.')
    .version(version, '-V, --version', 'print the version')
    // Nothing printed here: main() prints commander's errors as the tool's own (see usageError).
    .configureOutput({ outputError: () => undefined });
  const jobsHelp = `jobs to run (default: all): ${jobNames.join(', ')}`;

  program
    .command('sync')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .option('--json', 'log JSON lines (pino) and print the summary as JSON')
    .addOption(verboseOption())
    .description('copy every object the jobs reference from [source] to [destination]')
    .argument('[jobs...]', jobsHelp)
    .option('--limit <rows>', 'at most this many rows per job', parsePositiveInteger('--limit'))
    .option('--dev', 'dev mode: 10 rows per job unless --limit says otherwise, verbose log')
    .option('--dry-run', 'report what would be copied; write nothing')
    .addOption(new Option('--concurrency <n>', 'transfers in flight (default: [sync] concurrency, 16)').argParser(parsePositiveInteger('--concurrency', maxConcurrency)))
    .option('--ui', 'serve the web dashboard while the run lasts (default http://127.0.0.1:5555)')
    .option('--ui-host <host>', 'dashboard address (default: [ui] host, 127.0.0.1); any other than loopback needs a token')
    .option('--ui-port <port>', 'dashboard port (default: [ui] port, 5555)', parsePort)
    .option('--ui-token <token>', 'require this bearer token for the dashboard (default: [ui] token or MASTODON_S3_SYNC_UI_TOKEN, which ps does not show)')
    .option('--ui-linger', 'keep the dashboard up after the run until Ctrl-C')
    .option('--state <path>', 'the state file (journal) (default: [sync] state_path, else state.sqlite beside the config file)')
    .option('--no-state', 'keep no state: check every object against both storages')
    .option('--inventory', 'list the destination first and re-check the state file against it (default: only until a full run has completed)')
    .option('--no-inventory', 'never list the destination; check unknown objects one by one')
    .option('--retry-failed', 'only the keys the state file holds as failed or missing')
    .option('--since <time>', 'only rows changed since this ISO 8601 time (UTC unless it has an offset), or "last": since the last completed sync')
    .option('--local-only', 'leave out cache/ objects (remote media Mastodon can fetch again)')
    .option('--grace-period <seconds>', `after Ctrl-C/SIGTERM, how long transfers in flight may finish before they are abandoned (default ${defaultGraceSeconds})`, parsePositiveInteger('--grace-period', maxGraceSeconds))
    .action(async (jobs: string[], options) => {
      const { syncCommand } = await import('./commands/sync.js');
      setExitCode(await syncCommand(jobs, options));
    });

  program
    .command('report')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .option('--json', 'print the counts and the last run as one JSON record')
    .description('print per-job counts from the state file and write the failed and missing keys')
    .argument('[jobs...]', jobsHelp)
    .option('--state <path>', 'the state file (default: [sync] state_path, else state.sqlite beside the config file)')
    .addOption(new Option('--format <format>', 'how to write the keys (default: JSON lines for an --output file ending in .jsonl or .json, else CSV)').choices(['csv', 'jsonl']))
    .option('--output <file>', 'write the keys to this file (default: stdout when --format is given)')
    .option('--include-absent', 'also list derived styles absent from the source')
    .action(async (jobs: string[], options) => {
      const { reportCommand } = await import('./commands/report.js');
      setExitCode(await reportCommand(jobs, options));
    });

  program
    .command('verify')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .option('--json', 'print each problem and the counts as JSON lines; log JSON lines (pino)')
    .description('check that every referenced key is in [destination] with the size (and MD5) it has in [source]; read-only')
    .argument('[jobs...]', jobsHelp)
    .option('--limit <rows>', 'at most this many rows per job', parsePositiveInteger('--limit'))
    .option('--local-only', 'leave out cache/ objects')
    .option('--concurrency <n>', 'listings in flight (default 8)', parsePositiveInteger('--concurrency', maxConcurrency))
    .action(async (jobs: string[], options) => {
      const { verifyCommand } = await import('./commands/verify.js');
      setExitCode(await verifyCommand(jobs, options));
    });

  program
    .command('orphans')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .option('--json', "write the keys as JSON lines (unless --format or the --output file's extension says otherwise); log JSON lines (pino)")
    .description('list objects no database row references (read-only: it never deletes)')
    .addOption(new Option('--in <storage>', 'which storage to look in').choices(['source', 'destination']).makeOptionMandatory())
    .addOption(new Option('--format <format>', "how to write the keys (default: as the --output file's extension says, .csv or .jsonl, else one key a line)").choices(['text', 'csv', 'jsonl']))
    .option('--output <file>', 'write the keys to this file instead of stdout')
    .option('--unrecognized', 'also list the keys that are not Mastodon-shaped (otherwise only counted)')
    .action(async (options) => {
      const { orphansCommand } = await import('./commands/orphans.js');
      setExitCode(await orphansCommand(options));
    });

  const queueOption = (): Option => new Option('--queue <url>', 'the queue\'s Redis, e.g. redis://10.0.0.1:6379 (default: [queue] url or MASTODON_S3_SYNC_QUEUE_URL)').argParser(parseQueueUrl);

  program
    .command('enqueue')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .option('--json', 'log JSON lines (pino) and print what was queued as JSON')
    .description('put a copy task for every key the jobs reference in the Redis queue, for workers on any machine (resumes where it stopped)')
    .argument('[jobs...]', jobsHelp)
    .addOption(queueOption())
    .option('--limit <rows>', 'at most this many rows per job (the next enqueue goes on from there)', parsePositiveInteger('--limit'))
    .option('--from-start', 'queue jobs an earlier enqueue finished again, from their first row')
    // It reads no rows, so the options that choose rows would do nothing.
    .addOption(new Option('--retry-failed', 'put the failed tasks back in the queue (of the named jobs, or all) instead of reading the database').conflicts(['limit', 'fromStart', 'localOnly']))
    .option('--local-only', 'leave out cache/ objects (remote media Mastodon can fetch again)')
    .action(async (jobs: string[], options) => {
      const { enqueueCommand } = await import('./commands/enqueue.js');
      setExitCode(await enqueueCommand(jobs, options));
    });

  program
    .command('worker')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .option('--json', 'log JSON lines (pino) and print the summary as JSON')
    .addOption(verboseOption())
    .description('copy the tasks in the Redis queue until stopped (SIGINT/SIGTERM); run as many as you like, on any machine')
    .addOption(queueOption())
    .addOption(new Option('--concurrency <n>', 'transfers in flight in this worker (default: [sync] concurrency, 16)').argParser(parsePositiveInteger('--concurrency', maxConcurrency)))
    .option('--grace-period <seconds>', `after SIGINT/SIGTERM, how long tasks in flight may finish before they are handed back to the queue (default ${defaultGraceSeconds})`, parsePositiveInteger('--grace-period', maxGraceSeconds))
    .action(async (options) => {
      const { workerCommand } = await import('./commands/worker.js');
      setExitCode(await workerCommand(options));
    });

  program
    .command('status')
    .addOption(configOption())
    .option('--json', 'print the status as one JSON record')
    .description('print the queued run\'s progress from Redis: the queue, the workers, a line a job, the latest failures')
    .addOption(queueOption())
    .option('--failures <n>', 'failed or missing objects to list (default 10)', parsePositiveInteger('--failures'))
    .action(async (options) => {
      const { statusCommand } = await import('./commands/status.js');
      setExitCode(await statusCommand(options));
    });

  program
    .command('ui')
    .addOption(configOption())
    .option('--json', 'log JSON lines (pino)')
    .description('serve the dashboard of a queued run (counts from Redis, bull-board at /queues) until Ctrl-C')
    .addOption(queueOption())
    .option('--ui-host <host>', 'dashboard address (default: [ui] host, 127.0.0.1); any other than loopback needs a token')
    .option('--ui-port <port>', 'dashboard port (default: [ui] port, 5555)', parsePort)
    .option('--ui-token <token>', 'require this bearer token (default: [ui] token or MASTODON_S3_SYNC_UI_TOKEN, which ps does not show)')
    .action(async (options) => {
      const { uiCommand } = await import('./commands/ui.js');
      setExitCode(await uiCommand(options));
    });

  program
    .command('keys')
    .addOption(configOption())
    .addOption(mastodonEnvOption())
    .description('print every key the jobs reference, one a line (reads only the database)')
    .argument('[jobs...]', jobsHelp)
    .option('--limit <rows>', 'at most this many rows per job', parsePositiveInteger('--limit'))
    .action(async (jobs: string[], options) => {
      const { keysCommand } = await import('./commands/keys.js');
      setExitCode(await keysCommand(jobs, options));
    });

  for (const command of [program, ...program.commands]) {
    command.exitOverride((error) => {
      // --help (exit 0), and the help a bare `mastodon-s3-sync` prints, end the run as commander's own outcome.
      if (error.exitCode === 0 || error.code === 'commander.help') throw error;
      throw usageError(error, command);
    });
  }
  return program;
}

/**
 * commander's errors (an unknown option or command, a missing or invalid value) in the shape of the
 * tool's own: one line naming the problem, commander's suggestion kept, and the help that lists what
 * the command takes. commander's message is `error: <problem>`, its suggestion on a line of its own.
 */
function usageError(error: CommanderError, command: Command): UserError {
  const problem = error.message.replace(/^error: /, '').split('\n').join(' ').replace(/\.$/, '');
  const help = command.parent === null ? `${programName} --help` : `${programName} ${command.name()} --help`;
  return new UserError(`${problem}: see ${help}`, 'cli.usage');
}

/** Parses, runs, and turns every error into an exit code: one line for what the admin can fix, a stack for our bugs. */
export async function main(argv: string[]): Promise<number> {
  // A reader that has seen enough (`| head`) closes the pipe: what is left to print has no one to
  // read it, which is no failure of the command. Without this listener the EPIPE would end the
  // process with a trace and exit 1, the code that means "some objects failed".
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  let exitCode: number = ExitCode.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.userError;
    if (error instanceof UserError) {
      process.stderr.write(`${programName}: ${error.message}\n`);
      return ExitCode.userError;
    }
    process.stderr.write(`${programName}: internal error, please report it with this trace:\n${error instanceof Error ? error.stack : String(error)}\n`);
    return ExitCode.internalError;
  }
}
