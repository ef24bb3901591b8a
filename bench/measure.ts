/**
 * Runs one command as a child process and measures it: wall time, peak RSS and CPU of its
 * process tree, and the requests both S3 servers answered meanwhile.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { countOf, totalRequests, type LocalS3, type RequestCounts } from '../tools/local-s3/local-s3.js';
import { cpuSeconds, systemBusySeconds, TreeSampler, type TreeSample } from './process-tree.js';

export interface Measured {
  command: string;
  exitCode: number | null;
  wallSeconds: number;
  peakRssBytes: number;
  cpuSeconds: number;
  /** CPU the two S3 servers used during the run. */
  serverCpuSeconds: number;
  /** CPU every other process on the machine used during the run (other users' work skews the numbers). */
  backgroundCpuSeconds: number;
  samples: TreeSample[];
  stdout: string;
  stderrTail: string;
  /** Lines the command wrote to stdout (counted even when stdout is not kept). */
  stdoutLines: number;
  /** Time from start until the first stdout byte. */
  firstOutputSeconds: number | undefined;
  sourceRequests: RequestCounts;
  destinationRequests: RequestCounts;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdout in memory (default); false counts its lines only. */
  keepStdout?: boolean;
  /** Also write stderr to this file. */
  stderrFile?: string;
  servers: { source: LocalS3; destination: LocalS3 };
}

export async function measure(executable: string, args: string[], options: RunOptions): Promise<Measured> {
  const { source, destination } = options.servers;
  await Promise.all([source.resetCounts(), destination.resetCounts()]);
  const serverCpu = (): number => (cpuSeconds(source.pid) ?? 0) + (cpuSeconds(destination.pid) ?? 0);
  const serverCpuBefore = serverCpu();
  const busyBefore = systemBusySeconds();
  const selfBefore = process.cpuUsage();

  const started = performance.now();
  const child = spawn(executable, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = new TreeSampler(child.pid ?? -1, 50);
  const keep = options.keepStdout ?? true;
  let stdout = '';
  let stdoutLines = 0;
  let firstOutput: number | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    firstOutput ??= performance.now();
    if (keep) stdout += chunk.toString('utf8');
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) stdoutLines += 1;
  });
  let stderr = '';
  const stderrFile = options.stderrFile === undefined ? undefined : createWriteStream(options.stderrFile);
  child.stderr.on('data', (chunk: Buffer) => {
    stderrFile?.write(chunk);
    stderr = (stderr + chunk.toString('utf8')).slice(-8000);
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  sampler.stop();
  const busy = systemBusySeconds() - busyBefore;
  const self = process.cpuUsage(selfBefore);
  const serverCpuSeconds = serverCpu() - serverCpuBefore;
  stderrFile?.end();

  const [sourceRequests, destinationRequests] = await Promise.all([source.counts(), destination.counts()]);
  return {
    command: [executable, ...args].join(' '),
    exitCode,
    wallSeconds,
    peakRssBytes: sampler.peak,
    cpuSeconds: sampler.cpuSeconds(),
    serverCpuSeconds,
    backgroundCpuSeconds: Math.max(0, busy - sampler.cpuSeconds() - serverCpuSeconds - (self.user + self.system) / 1e6),
    samples: sampler.samples,
    stdout,
    stderrTail: stderr,
    stdoutLines,
    firstOutputSeconds: firstOutput === undefined ? undefined : (firstOutput - started) / 1000,
    sourceRequests,
    destinationRequests,
  };
}

export interface RequestBreakdown {
  total: number;
  perObject: number;
  /** e.g. { HEAD: 1.0, GET: 1.0, PUT: 1.0 } per object, both servers together. */
  perObjectByKind: Record<string, number>;
}

export function requestBreakdown(measured: Measured, objects: number): RequestBreakdown {
  const kinds = new Map<string, number>();
  for (const counts of [measured.sourceRequests, measured.destinationRequests]) {
    for (const [key, n] of Object.entries(counts)) {
      const kind = key.slice(0, key.lastIndexOf(' '));
      kinds.set(kind, (kinds.get(kind) ?? 0) + n);
    }
  }
  const total = totalRequests(measured.sourceRequests) + totalRequests(measured.destinationRequests);
  const divisor = Math.max(1, objects);
  return {
    total,
    perObject: total / divisor,
    perObjectByKind: Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1]).map(([kind, n]) => [kind, n / divisor])),
  };
}

export { countOf };
