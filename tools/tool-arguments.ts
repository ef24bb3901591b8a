import { parseArgs, type ParseArgsConfig } from 'node:util';

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>['values'];

/**
 * The options of an `npm run <tool>` script. `--help` prints its usage; a mistyped option or a
 * missing value is one line on stderr and exit 2, not Node's stack trace.
 */
export function toolArguments<T extends ParseArgsConfig>(tool: string, usage: string, config: T): Parsed<T> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ ...config, args }).values;
  } catch (error) {
    // Node's message goes on about positionals after `--`; its first sentence names the problem.
    const problem = (error instanceof Error ? error.message : String(error)).split('. ')[0];
    process.stderr.write(`${tool}: ${problem} — npm run ${tool} -- --help lists the options\n`);
    process.exit(2);
  }
}
