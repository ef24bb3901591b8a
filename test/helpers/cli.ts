import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const binPath = fileURLToPath(new URL('../../bin/mastodon-s3-sync.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  launcher?: string[];
  terminal?: boolean;
}

export interface RunningCli {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** What it has printed so far. */
  output: () => { stdout: string; stderr: string };
  result: Promise<CliResult>;
}

/**
 * Starts the built CLI as a user would, without waiting for it (so that a test can signal or kill
 * it), with a clean MASTODON_S3_SYNC_* environment plus `env`. `terminal` runs it on a
 * pseudo-terminal (util-linux `script`), as from a shell: stdout and stderr then arrive together
 * on `stdout`, with the terminal's escape codes.
 */
export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const env = cliEnvironment(options.env);
  const cli = [...(options.launcher ?? []), process.execPath, binPath, ...args];
  const command = options.terminal === true ? ['script', '--quiet', '--return', '--flush', '--command', cli.map(shellQuote).join(' '), '/dev/null'] : cli;
  return watch(spawn(command[0]!, command.slice(1), { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function watch(child: ChildProcessByStdio<null, Readable, Readable>): RunningCli {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), result };
}

/** The environment without MASTODON_S3_SYNC_* variables (the tests' own shell may have some), plus `extra`. */
function cliEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('MASTODON_S3_SYNC_') && name !== 'NODE_TEST_CONTEXT') env[name] = value;
  return Object.assign(env, extra);
}

/** Runs the built CLI to its end (see `startCli`). */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/**
 * Runs the built CLI with its stdout piped into `reader` (a shell command such as `head -n 1`, or
 * `true`, which has closed the pipe before the CLI writes), as `mastodon-s3-sync … | reader` in
 * a shell: the exit code is the CLI's (pipefail), stdout the reader's, stderr the CLI's. Not
 * spawnSync: the tests' in-process S3 proxies must keep answering meanwhile.
 */
export function runCliPiped(args: string[], reader: string): Promise<CliResult> {
  const cli = [process.execPath, binPath, ...args].map(shellQuote).join(' ');
  return watch(spawn('bash', ['-o', 'pipefail', '-c', `${cli} | ${reader}`], { env: cliEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] })).result;
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Resolves with the dashboard URL a running CLI logs on stderr; rejects if it exits first. */
export function dashboardUrlOf(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  let stderr = '';
  return new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/?)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before serving the dashboard: ${stderr}`)));
  });
}
