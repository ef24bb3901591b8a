import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { jobSummary } from '../helpers/test-instance.js';
import { boundedFaults, createDurableInstance, perObjectRequests, type DurableInstance } from './durable-instance.js';

describe('real faults on both storages: the run completes and nothing is lost', () => {
  let instance: DurableInstance;
  const rows = 60;

  before(async () => {
    instance = await createDurableInstance({ rows, size: 8192 });
  });
  after(() => instance.close());

  test('503 SlowDown, 500, connection resets and stalls on a fifth of the requests', async () => {
    const config = await instance.proxiedConfig({ concurrency: 8, timeout_s: 2 }, 'faults.ini');
    instance.sourceProxy.setFaults(boundedFaults(0.2, ['slow-down', 'internal-error', 'reset', 'stall'], 2, 11));
    instance.destinationProxy.setFaults(boundedFaults(0.2, ['slow-down', 'internal-error', 'reset', 'stall'], 2, 23));
    const started = Date.now();
    const result = await runCli(['sync', '--config', config, '--json']);
    instance.sourceProxy.setFaults(undefined);
    instance.destinationProxy.setFaults(undefined);

    assert.equal(result.code, 0, result.stderr);
    const summary = jobSummary(result.stdout, 'media_attachments');
    assert.deepEqual({ copied: summary.copied, failed: summary.failed, missing: summary.missing }, { copied: rows * 2, failed: 0, missing: 0 });
    await instance.assertDestinationComplete();

    const faults = [...instance.sourceProxy.faults, ...instance.destinationProxy.faults];
    for (const kind of ['slow-down', 'internal-error', 'reset', 'stall'] as const) assert.ok(faults.includes(kind), `some request met ${kind}`);
    assert.ok(faults.length >= 20, `${faults.length} faults injected`);
    // SlowDown lowered the concurrency (AIMD) and the run said so.
    assert.match(result.stderr, /the storage is throttling: \d+ transfers at once/);
    // Stalls became 2-second timeouts, not hangs.
    assert.ok(Date.now() - started < 60_000);
  });

  test('permanent errors are not retried: a 403 on one object is one request, reported, and the rest completes', async () => {
    const config = await instance.proxiedConfig({ concurrency: 4 }, 'forbidden.ini');
    const forbidden = [...instance.expected.keys()][3]!;
    // The destination already has everything; the journal settles it. Forget one object so it is read again.
    const { putTestObject } = await import('../helpers/s3-server.js');
    await putTestObject(instance.destination, 'new-media', forbidden, 'stale', {});
    const before = instance.sourceProxy.requests.length;
    const server = instance.sourceProxy;
    // A source that refuses this one key (as a bucket policy would).
    server.setFaults({ choose: (request) => (request.path.endsWith(forbidden) ? 'forbidden' : undefined) });
    const result = await runCli(['sync', '--config', config, '--json', '--inventory']);
    server.setFaults(undefined);
    assert.equal(result.code, 1, 'some objects failed');
    const summary = jobSummary(result.stdout, 'media_attachments');
    assert.equal(summary.failed, 1);
    assert.match(result.stderr, /403/);
    const attempts = perObjectRequests(instance.sourceProxy.requests.slice(before)).filter((request) => request.path.endsWith(forbidden));
    assert.equal(attempts.length, 1, 'a 403 is asked once, not retried');
  });
});
