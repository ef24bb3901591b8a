/**
 * A worker whose grace period ends with uploads in flight hands their tasks back and quits. What it
 * abandons must not stay behind at the destination: a multipart upload never aborted keeps its parts
 * (and their cost) for good, and no state file remembers it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import type { RecordedRequest } from '../helpers/s3-proxy.js';
import { cleanUp, eventually, testQueue } from '../queue/test-redis.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

describe('a worker past its grace period', () => {
  let instance: DurableInstance;
  const queue = testQueue('abandon');

  before(async () => {
    instance = await createDurableInstance({ rows: 1, large: [6 * 1024 * 1024] });
  });
  after(async () => {
    await cleanUp(queue);
    await instance.close();
  });

  const isPartUpload = (request: RecordedRequest): boolean => request.method === 'PUT' && /(^|&)partNumber=/.test(request.query);

  test('aborts the multipart upload it abandons before it exits', { timeout: 60_000 }, async () => {
    const config = await instance.writeConfig(
      {
        destination: instance.proxiedDestination(),
        // 1 MB threshold and 5 MB parts: the large object goes up in two parts.
        sync: { multipart_threshold_mb: 1, part_size_mb: 5 },
        queue: { url: queue.url, prefix: queue.prefix },
      },
      'worker-abandon.ini',
    );
    const enqueued = await runCli(['enqueue', '--config', config]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
    // The parts never get an answer: the upload cannot finish within the grace period.
    instance.destinationProxy.setFaults({ choose: (request) => (isPartUpload(request) ? 'stall' : undefined) });
    try {
      const running = startCli(['worker', '--config', config, '--concurrency', '2', '--grace-period', '1']);
      await eventually(async () => instance.destinationProxy.requests.some(isPartUpload), 15_000, 'the worker to be uploading a part');
      running.child.kill('SIGINT');
      const result = await running.result;
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /the grace period is over with 1 task in flight/);
      const uploadId = /(?:^|&)uploadId=([^&]+)/.exec(instance.destinationProxy.requests.find(isPartUpload)!.query)?.[1];
      const aborts = instance.destinationProxy.requests.filter((request) => request.method === 'DELETE' && request.query.includes(`uploadId=${uploadId}`));
      assert.equal(aborts.length, 1, 'the abandoned multipart upload was aborted');
    } finally {
      instance.destinationProxy.setFaults(undefined);
    }
  });
});
