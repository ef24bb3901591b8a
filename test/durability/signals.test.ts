import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Journal } from '../../src/journal/journal.js';
import { runCli, startCli } from '../helpers/cli.js';
import type { RecordedRequest } from '../helpers/s3-proxy.js';
import { jobSummary } from '../helpers/test-instance.js';
import { createDurableInstance, type DurableInstance } from './durable-instance.js';

describe('SIGTERM and Ctrl-C: transfers in flight finish (or are abandoned after the grace period), the journal is flushed', () => {
  let instance: DurableInstance;
  let config: string;
  const rows = 80;

  before(async () => {
    instance = await createDurableInstance({ rows, size: 16_384 });
    config = await instance.proxiedConfig({ concurrency: 4, timeout_s: 60 }, 'signals.ini');
  });
  after(() => instance.close());

  const isObjectWrite = (request: RecordedRequest): boolean => request.method === 'PUT' && !request.path.endsWith('.mastodon-s3-sync-write-check');

  function journalCopied(): string[] {
    const journal = Journal.open(path.join(path.dirname(config), 'state.sqlite'));
    try {
      const [pair] = journal.scopes();
      return [...journal.scope(pair!.source, pair!.destination)!.entries(['copied'])].map((entry) => entry.key).sort();
    } finally {
      journal.close();
    }
  }

  test('SIGTERM: the objects in flight finish, every one of them is in the journal, exit 130', async () => {
    const running = startCli(['sync', '--config', config, '--json']);
    let writes = 0;
    instance.destinationProxy.setFaults({
      choose(request) {
        if (isObjectWrite(request) && ++writes === 30) running.child.kill('SIGTERM');
        return undefined;
      },
    });
    const result = await running.result;
    instance.destinationProxy.setFaults(undefined);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /SIGTERM: finishing the objects in flight/);
    const copied = journalCopied();
    assert.ok(copied.length >= 30 && copied.length < rows * 2, `${copied.length} copied before the stop`);
    assert.deepEqual(await instance.destinationKeys(), copied, 'what reached the destination is exactly what the journal holds');
    assert.equal(jobSummary(result.stdout, 'media_attachments').copied, copied.length);
  });

  test('transfers that hang past --grace-period are abandoned: the process exits promptly and the next run copies them', async () => {
    const running = startCli(['sync', '--config', config, '--json', '--grace-period', '1']);
    let writes = 0;
    let stalled = false;
    const signalled = { at: 0 };
    instance.destinationProxy.setFaults({
      choose(request) {
        if (stalled) return 'stall';
        if (isObjectWrite(request) && ++writes === 10) {
          // From now on the destination answers nothing; the transfers in flight cannot finish.
          stalled = true;
          signalled.at = Date.now();
          running.child.kill('SIGTERM');
          return 'stall';
        }
        return undefined;
      },
    });
    const result = await running.result;
    instance.destinationProxy.setFaults(undefined);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /abandoning \d+ transfers? still in flight after the grace period/);
    assert.ok(Date.now() - signalled.at < 15_000, `exited ${Date.now() - signalled.at} ms after SIGTERM, not after the 60 s request timeout`);
    assert.deepEqual(await instance.destinationKeys(), journalCopied());

    const rerun = await runCli(['sync', '--config', config, '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    await instance.assertDestinationComplete();
  });
});
