import { Command, CommanderError, Option } from 'commander';
import { ExitCode, UserError } from '../errors.js';
import { jobNames } from '../mastodon/object-ref.js';
import { parsePort, parsePositiveInteger } from './context.js';

const programName = 'mastodon-s3-sync';

function commonOptions(command: Command): Command {
  return command
    .option('-c, --config <path>', 'config file (default: $MASTODON_S3_SYNC_CONFIG or private/config.ini)')
    .option('--mastodon-env <path>', "read [database] and [source] from Mastodon's .env.production (the config file and variables still win)")
    .option('--json', 'log JSON lines (pino) and print the summary as JSON')
    .option('-v, --verbose', 'log every object, including absent derived styles');
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command(programName)
    .description('Copy exactly the media a Mastodon database references from one storage to another.')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const jobsHelp = `jobs to run (default: all): ${jobNames.join(', ')}`;

  commonOptions(program.command('sync'))
    .description('copy every object the jobs reference from [source] to [destination]')
    .argument('[jobs...]', jobsHelp)
    .option('--limit <rows>', 'at most this many rows per job', parsePositiveInteger('--limit'))
    .option('--dev', 'dev mode: 10 rows per job unless --limit says otherwise, verbose log')
    .option('--dry-run', 'report what would be copied; write nothing')
    .addOption(new Option('--concurrency <n>', 'transfers in flight (default: [sync] concurrency, 16)').argParser(parsePositiveInteger('--concurrency')))
    .option('--ui', 'serve the web dashboard while the run lasts (default http://127.0.0.1:5555)')
    .option('--ui-host <host>', 'dashboard address (default: [ui] host, 127.0.0.1); any other than loopback needs a token')
    .option('--ui-port <port>', 'dashboard port (default: [ui] port, 5555)', parsePort)
    .option('--ui-token <token>', 'require this bearer token for the dashboard (default: [ui] token)')
    .option('--ui-linger', 'keep the dashboard up after the run until Ctrl-C')
    .action(async (jobs: string[], options) => {
      const { syncCommand } = await import('./commands/sync.js');
      setExitCode(await syncCommand(jobs, options));
    });

  commonOptions(program.command('keys'))
    .description('print every key the jobs reference, one a line (reads only the database)')
    .argument('[jobs...]', jobsHelp)
    .option('--limit <rows>', 'at most this many rows per job', parsePositiveInteger('--limit'))
    .action(async (jobs: string[], options) => {
      const { keysCommand } = await import('./commands/keys.js');
      setExitCode(await keysCommand(jobs, options));
    });

  return program;
}

/** Parses, runs, and turns every error into an exit code: one line for what the admin can fix, a stack for our bugs. */
export async function main(argv: string[]): Promise<number> {
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
