/**
 * A local S3 endpoint: s3rver in a child process (its CPU is not ours, its memory is not in
 * the measured process tree), with request counters read over its stdin/stdout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { S3StorageOptions } from '../../src/storage/storage-options.js';

const launcher = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

/** s3rver's one built-in account (it checks only the key id). */
export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const s3rverRegion = 'us-east-1';

/** Requests answered, keyed `<kind> <status>`, e.g. `HEAD 404`, `PUT 200`, `PUT part 200`, `LIST 200`. */
export type RequestCounts = Record<string, number>;

export interface LocalS3 {
  endpoint: string;
  port: number;
  pid: number;
  directory: string;
  counts(): Promise<RequestCounts>;
  resetCounts(): Promise<void>;
  stop(): Promise<void>;
}

/** The project's S3Storage options for `bucket` on a local s3rver; small multipart sizes, so multipart paths run quickly. */
export function s3rverStorageOptions(endpoint: string, bucket: string, overrides: Partial<S3StorageOptions> = {}): S3StorageOptions {
  return {
    type: 's3',
    endpoint,
    region: s3rverRegion,
    bucket,
    ...s3rverCredentials,
    forcePathStyle: true,
    maxSockets: 16,
    multipartThreshold: 8 * 1024 * 1024,
    partSize: 5 * 1024 * 1024,
    ...overrides,
  };
}

export interface LocalS3Options {
  buckets?: string[];
  /** Keep the objects here (and leave them after stop()); by default a temporary directory that stop() removes. */
  directory?: string;
  port?: number;
  /**
   * Let the parent exit without stop() (tests: a forgotten stop() must not hang the run; the server
   * exits when our stdin pipe closes). Only for callers that never wait on counts() with nothing else alive.
   */
  unref?: boolean;
}

export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), 'mss-s3rver-')));
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', launcher, JSON.stringify({ directory, buckets: options.buckets ?? [], port: options.port ?? 0 })],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: ((line: Record<string, unknown>) => void)[] = [];
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`s3rver exited before listening (code ${code}, signal ${signal})`)));
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    if (ownDirectory) await rm(directory, { recursive: true, force: true });
    throw error;
  });
  lines.on('line', (line) => waiting.shift()?.(JSON.parse(line) as Record<string, unknown>));
  if (options.unref === true) {
    child.unref();
    for (const pipe of [child.stdin, child.stdout]) (pipe as unknown as { unref?: () => void }).unref?.();
  }

  const ask = (command: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error('s3rver has exited'));
      waiting.push(resolve);
      child.stdin.write(`${command}\n`);
    });

  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    directory,
    async counts() {
      return (await ask('counts'))['counts'] as RequestCounts;
    },
    async resetCounts() {
      await ask('reset');
    },
    stop() {
      stopped ??= (async () => {
        if (!exited) {
          child.stdin.end();
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exitedPromise;
          clearTimeout(killer);
        }
        if (ownDirectory) await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Sums counts whose key starts with `kind ` (e.g. `HEAD` → every HEAD whatever its status). */
export function countOf(counts: RequestCounts, kind: string): number {
  return Object.entries(counts)
    .filter(([key]) => key.slice(0, key.lastIndexOf(' ')) === kind)
    .reduce((sum, [, n]) => sum + n, 0);
}

export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
