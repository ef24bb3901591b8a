/**
 * A redis-server of a test's own, on a spare loopback port, for tests that freeze, kill or restart
 * their Redis (never the machine's Redis on 6379, which every other queue test shares). It keeps
 * nothing on disk: killed, its keys are gone.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { eventually } from '../queue/test-redis.js';

export interface PrivateRedis {
  port: number;
  /** `redis://[:password@]127.0.0.1:port`. */
  url: string;
  process: ChildProcess;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts redis-server on `port` (a free one when not given), requiring `password` when given. */
export async function startRedisServer(options: { port?: number; password?: string } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const auth = options.password === undefined ? [] : ['--requirepass', options.password];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await eventually(async () => /Ready to accept connections/.test(output) || child.exitCode !== null, 10_000, 'redis-server to start');
  assert.equal(child.exitCode, null, `redis-server exited at start:\n${output}`);
  const credentials = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return { port, url: `redis://${credentials}127.0.0.1:${port}`, process: child };
}

/** Kills it for good (thawing it first, should the test have frozen it) and waits for its end. */
export async function stopRedisServer(redis: PrivateRedis): Promise<void> {
  const child = redis.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await once(child, 'exit');
}
