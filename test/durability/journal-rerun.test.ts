import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { jobSummary } from '../helpers/test-instance.js';
import { createDurableInstance, perObjectRequests, type DurableInstance } from './durable-instance.js';

describe('the journal: a re-run asks neither storage about objects it already settled', () => {
  let instance: DurableInstance;
  let config: string;
  const rows = 60;

  before(async () => {
    instance = await createDurableInstance({ rows });
    config = await instance.proxiedConfig();
  });
  after(() => instance.close());

  /** Runs the CLI and returns what it sent each proxy. */
  async function run(args: string[]): Promise<{ stdout: string; stderr: string; source: ReturnType<typeof perObjectRequests>; destination: ReturnType<typeof perObjectRequests>; listings: number }> {
    const sourceStart = instance.sourceProxy.requests.length;
    const destinationStart = instance.destinationProxy.requests.length;
    const result = await runCli(args);
    assert.equal(result.code, 0, result.stderr);
    const destinationRequests = instance.destinationProxy.requests.slice(destinationStart);
    return {
      stdout: result.stdout,
      stderr: result.stderr,
      source: perObjectRequests(instance.sourceProxy.requests.slice(sourceStart)),
      destination: perObjectRequests(destinationRequests),
      listings: destinationRequests.filter((request) => /list-type=2/.test(request.query)).length,
    };
  }

  test('the first run lists the destination once instead of a HEAD per object, and keeps state beside the config', async () => {
    const first = await run(['sync', '--config', config, '--json']);
    assert.equal(jobSummary(first.stdout, 'media_attachments').copied, rows * 2);
    await instance.assertDestinationComplete();
    assert.ok(first.listings >= 1, 'the destination was listed');
    assert.deepEqual(
      first.destination.filter((request) => request.method !== 'PUT'),
      [],
      'no per-object HEAD at the destination: the listing said what is there',
    );
    assert.equal(first.source.filter((request) => request.method === 'GET').length, rows * 2);
    await stat(path.join(path.dirname(config), 'state.sqlite'));
  });

  test('a second run makes no per-object request to either storage', async () => {
    const second = await run(['sync', '--config', config, '--json']);
    const summary = jobSummary(second.stdout, 'media_attachments');
    assert.deepEqual({ copied: summary.copied, skipped: summary.skipped, failed: summary.failed }, { copied: 0, skipped: rows * 2, failed: 0 });
    assert.deepEqual(second.source, []);
    assert.deepEqual(second.destination, []);
    assert.equal(second.listings, 0, 'a completed full run is on record: no listing either');
    assert.match(second.stderr, new RegExp(`${rows * 2} objects settled by the state file`));
  });

  test('--inventory re-checks the journal against one listing: still no per-object request', async () => {
    const third = await run(['sync', '--config', config, '--json', '--inventory']);
    assert.equal(jobSummary(third.stdout, 'media_attachments').skipped, rows * 2);
    assert.deepEqual(third.source, []);
    assert.deepEqual(third.destination, []);
    assert.ok(third.listings >= 1);
  });

  test('without the state file, a complete destination costs one HEAD per object at the source only', async () => {
    await rm(path.join(path.dirname(config), 'state.sqlite'));
    const fresh = await run(['sync', '--config', config, '--json']);
    assert.equal(jobSummary(fresh.stdout, 'media_attachments').skipped, rows * 2);
    assert.deepEqual(fresh.destination, [], 'the destination listing answers for the destination');
    assert.equal(fresh.source.length, rows * 2);
    assert.ok(fresh.source.every((request) => request.method === 'HEAD'));
  });

  test('--no-state checks every object against both storages, as before', async () => {
    const noState = await run(['sync', '--config', config, '--json', '--no-state']);
    assert.equal(jobSummary(noState.stdout, 'media_attachments').skipped, rows * 2);
    assert.equal(noState.destination.filter((request) => request.method === 'HEAD').length, rows * 2);
    assert.equal(noState.listings, 0);
  });
});
