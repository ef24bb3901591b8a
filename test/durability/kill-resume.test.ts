import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Journal } from '../../src/journal/journal.js';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import type { RecordedRequest } from '../helpers/s3-proxy.js';
import { jobSummary } from '../helpers/test-instance.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

describe('kill -9 at any moment, then re-run: the destination ends with exactly the expected objects', () => {
  let instance: DurableInstance;
  let config: string;
  const rows = 100;
  const large = 6 * 1024 * 1024;

  before(async () => {
    instance = await createDurableInstance({ rows, size: 16_384, large: [large] });
    // 1 MB threshold and 5 MB parts: the large object goes up in two parts.
    config = await instance.proxiedConfig({ concurrency: 4, multipart_threshold_mb: 1, part_size_mb: 5 }, 'kill.ini');
  });
  after(() => instance.close());

  const isWrite = (request: RecordedRequest): boolean => request.method === 'PUT' || request.method === 'POST';

  /** Runs sync and SIGKILLs it the moment `when` says so, as the destination receives a request. */
  async function syncKilledWhen(when: (request: RecordedRequest, writes: number) => boolean, slowWrites = false): Promise<CliResult> {
    const running = startCli(['sync', '--config', config, '--json']);
    let writes = 0;
    let killed = false;
    instance.destinationProxy.setFaults({
      choose(request) {
        if (isWrite(request) && !request.path.endsWith('.mastodon-s3-sync-write-check')) writes += 1;
        if (!killed && when(request, writes)) {
          killed = true;
          running.child.kill('SIGKILL');
        }
        return slowWrites && isWrite(request) ? 'delay' : undefined;
      },
    });
    const result = await running.result;
    instance.destinationProxy.setFaults(undefined);
    return result;
  }

  /** What the journal calls done is at the destination, whole: no half-written object is ever counted. */
  async function assertJournalTruthful(): Promise<number> {
    const journal = Journal.open(path.join(path.dirname(config), 'state.sqlite'));
    try {
      const [pair] = journal.scopes();
      if (pair === undefined) return 0;
      const scope = journal.scope(pair.source, pair.destination)!;
      let done = 0;
      for (const entry of scope.entries(['copied', 'skipped'])) {
        const object = await instance.destinationObject(entry.key);
        assert.ok(object?.body.equals(instance.expected.get(entry.key)!), `the journal says ${entry.key} is done, but the destination does not hold its bytes`);
        assert.equal(entry.size, object!.body.length);
        done += 1;
      }
      return done;
    } finally {
      journal.close();
    }
  }

  test('killed at its first write, with objects in flight', async () => {
    const result = await syncKilledWhen((_, writes) => writes === 1);
    assert.equal(result.signal, 'SIGKILL');
    await assertJournalTruthful();
  });

  test('killed again after 60 more writes', async () => {
    // Writes 50 ms late, 4 at a time: 60 of them take at least 750 ms, so the journal has flushed (every 250 ms) before the kill.
    const result = await syncKilledWhen((_, writes) => writes === 60, true);
    assert.equal(result.signal, 'SIGKILL');
    const done = await assertJournalTruthful();
    assert.ok(done > 0, 'the journal kept what the killed runs finished (batches are flushed every 250 ms)');
  });

  test('killed in the middle of a multipart upload', async () => {
    const result = await syncKilledWhen((request) => request.method === 'PUT' && /partNumber=/.test(request.query));
    assert.equal(result.signal, 'SIGKILL', 'the run reached the large object');
    await assertJournalTruthful();
    const keys = await instance.destinationKeys();
    const largeKey = [...instance.expected].find(([, body]) => body.length === large)![0];
    assert.ok(!keys.includes(largeKey), 'an unfinished multipart upload is never visible');
  });

  test('the next run completes: exactly the expected keys, byte for byte, and it cleans up the abandoned upload', async () => {
    const start = instance.destinationProxy.requests.length;
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jobSummary(result.stdout, 'media_attachments').failed, 0);
    await instance.assertDestinationComplete();
    assert.equal(await assertJournalTruthful(), instance.expected.size);
    const aborts = instance.destinationProxy.requests.slice(start).filter((request) => request.method === 'DELETE' && /uploadId=/.test(request.query));
    assert.equal(aborts.length, 1, 'the upload the killed run began was aborted (AbortMultipartUpload)');

    const verify = await runCli(['verify', '--config', config]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
