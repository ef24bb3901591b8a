/**
 * A worker whose queue's Redis goes away (killed, or frozen with SIGSTOP) while its uploads hang:
 * a stop must still end the process within seconds, exit 130, and say what becomes of the tasks
 * it held. Each test has a redis-server of its own, on a free port, so that it can kill it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { startRedisServer } from '../helpers/redis-server.js';
import type { RecordedRequest } from '../helpers/s3-proxy.js';
import { eventually } from '../queue/test-redis.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

describe("a worker stopped while its queue's Redis is down still quits: after the grace period, or at a second Ctrl-C", () => {
  let instance: DurableInstance;
  const rows = 6;
  const concurrency = 4;
  const started: ChildProcess[] = [];

  before(async () => {
    instance = await createDurableInstance({ rows });
  });
  afterEach(() => {
    for (const child of started.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    instance.destinationProxy.setFaults(undefined);
    instance.destinationProxy.requests.splice(0);
  });
  after(() => instance.close());

  const isObjectWrite = (request: RecordedRequest): boolean => request.method === 'PUT' && !request.path.endsWith('.mastodon-s3-sync-write-check');

  /** A private Redis filled with the run's tasks, and a config whose destination uploads hang. */
  async function queuedRun(label: string): Promise<{ redis: ChildProcess; config: string }> {
    const redis = await startRedisServer();
    started.push(redis.process);
    const config = await instance.writeConfig(
      {
        destination: instance.proxiedDestination(label),
        queue: { url: redis.url, prefix: label, lock_duration_s: 2 },
      },
      `${label}.ini`,
    );
    const enqueued = await runCli(['enqueue', '--config', config]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
    instance.destinationProxy.setFaults({ choose: (request) => (isObjectWrite(request) ? 'stall' : undefined) });
    return { redis: redis.process, config };
  }

  function worker(config: string, extra: string[] = []): RunningCli {
    const cli = startCli(['worker', '--config', config, '--concurrency', String(concurrency), ...extra]);
    started.push(cli.child);
    return cli;
  }

  const uploadsHanging = (): Promise<boolean> =>
    eventually(async () => instance.destinationProxy.requests.filter(isObjectWrite).length >= concurrency, 15_000, `the worker to be uploading ${concurrency} objects`);

  test('Redis killed: at the end of the grace period the worker exits 130 within seconds, and says the locks will lapse', { timeout: 60_000 }, async () => {
    const { redis, config } = await queuedRun('killed');
    const running = worker(config, ['--grace-period', '1']);
    await uploadsHanging();
    redis.kill('SIGKILL');
    await once(redis, 'exit');

    const signalledAt = Date.now();
    running.child.kill('SIGINT');
    const result = await running.result;
    const seconds = (Date.now() - signalledAt) / 1000;
    assert.equal(result.code, 130, result.stderr);
    assert.ok(seconds < 12, `exited ${seconds} s after SIGINT: the 1 s grace period, then at most 5 s for Redis`);
    assert.match(result.stderr, /the grace period is over with 4 tasks in flight/);
    assert.match(
      result.stderr,
      /Redis did not answer within 5 s: quitting anyway; the 4 tasks in flight stay locked to this worker until their locks lapse \(\[queue\] lock_duration_s, 2 s\), then another worker takes them again/,
    );
  });

  test('Redis frozen: a second Ctrl-C quits within seconds, and once Redis is back another worker copies every object', { timeout: 60_000 }, async () => {
    const { redis, config } = await queuedRun('frozen');
    const running = worker(config);
    await uploadsHanging();
    redis.kill('SIGSTOP');

    running.child.kill('SIGINT');
    await eventually(async () => /taking no new task/.test(running.output().stderr), 10_000, 'the first SIGINT to be heard');
    const signalledAt = Date.now();
    running.child.kill('SIGINT');
    const result = await running.result;
    const seconds = (Date.now() - signalledAt) / 1000;
    assert.equal(result.code, 130, result.stderr);
    assert.ok(seconds < 10, `exited ${seconds} s after the second SIGINT, not after the 30 s grace period`);
    assert.match(result.stderr, /SIGINT again: handing the tasks in flight back to the queue and quitting/);
    assert.match(result.stderr, /Redis did not answer within 5 s: quitting anyway; the 4 tasks in flight stay locked/);

    redis.kill('SIGCONT');
    instance.destinationProxy.setFaults(undefined);
    const finisher = worker(config);
    await eventually(
      async () => (await instance.destinationKeys()).filter((key) => key.startsWith('frozen/')).length === instance.expected.size,
      30_000,
      'another worker to copy every object',
    );
    for (const [key, body] of instance.expected) assert.ok((await instance.destinationObject(`frozen/${key}`))?.body.equals(body), `${key}: the destination's bytes differ from the source's`);
    finisher.child.kill('SIGTERM');
    assert.equal((await finisher.result).code, 0);
  });
});
