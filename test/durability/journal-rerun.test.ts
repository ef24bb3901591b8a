import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { UserError } from '../../src/errors.js';
import { Journal } from '../../src/journal/journal.js';
import { MastodonDatabase } from '../../src/mastodon/database.js';
import { RunStats } from '../../src/stats/run-stats.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { runSync } from '../../src/sync/run-sync.js';
import { defaultRetryPolicy } from '../../src/transfer/retry.js';
import { s3rverStorageOptions } from '../../tools/local-s3/local-s3.js';
import { runCli } from '../helpers/cli.js';
import { isCheckListing } from '../helpers/s3-proxy.js';
import { destinationBucket, jobSummary, sourceBucket } from '../helpers/test-instance.js';
import { createDurableInstance, isObjectListing, perObjectRequests, type DurableInstance } from './durable-instance.js';

describe('the journal: a re-run asks neither storage about objects it already settled', () => {
  let instance: DurableInstance;
  let config: string;
  const rows = 60;
  const stateFile = (): string => path.join(path.dirname(config), 'state.sqlite');
  const silentLog = pino({ level: 'silent' });

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
      listings: destinationRequests.filter(isObjectListing).length,
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

  test('a re-run reads its rows and the state file while the storages are being checked, and moves nothing before they pass', async () => {
    const journal = Journal.open(stateFile());
    const database = await MastodonDatabase.connect({ connectionString: instance.database.url });
    const source = new S3Storage(s3rverStorageOptions(instance.sourceProxy.endpoint, sourceBucket));
    const destination = new S3Storage(s3rverStorageOptions(instance.destinationProxy.endpoint, destinationBucket));
    const scope = journal.scope(source.description, destination.description)!;
    const runsBefore = scope.runs().length;
    const requestsBefore = instance.sourceProxy.requests.length + instance.destinationProxy.requests.length;
    const run = (stats: RunStats, ready: Promise<void>) =>
      within(20_000, 'the run waited for its checks before reading its rows', runSync(
        { database, source, destination, stats, log: silentLog, journal: scope, ready },
        { jobs: ['media_attachments'], query: { batchSize: 7 }, concurrency: 4, dryRun: false, aclFor: () => undefined, defaultCacheControl: 'max-age=60', retry: defaultRetryPolicy },
      ));
    /** Settles once every row was read and every key settled by the journal: a run that waits for its checks before reading never gets there. */
    const onceEverythingRead = (stats: RunStats): Promise<void> =>
      new Promise((resolve) => stats.on('job', (counters) => counters.finishedAt !== undefined && counters.skipped === rows * 2 && resolve()));
    try {
      const stats = new RunStats();
      const passed = await run(stats, onceEverythingRead(stats));
      assert.equal(passed.status, 'completed');
      assert.equal(stats.jobs()[0]?.skipped, rows * 2);
      assert.equal(scope.runs().length, runsBefore + 1, 'the run is recorded once the checks have passed');

      const refusing = new RunStats();
      const refused = new UserError('[destination] access denied', 'storage.auth');
      await assert.rejects(run(refusing, onceEverythingRead(refusing).then(() => Promise.reject(refused))), (error) => error === refused);
      assert.equal(scope.runs().length, runsBefore + 1, 'storages that fail their checks leave no run in the state file');
      assert.equal(instance.sourceProxy.requests.length + instance.destinationProxy.requests.length, requestsBefore, 'not one request went to either storage');
    } finally {
      journal.close();
      await Promise.all([source.close(), destination.close(), database.close()]);
    }
  });

  test('a re-run whose destination refuses its check is one line and exit 2, and the state file records no run', async () => {
    const runs = (): number => {
      const journal = Journal.open(stateFile(), { readonly: true });
      try {
        return journal.scope(`s3://${sourceBucket} at ${instance.sourceProxy.endpoint}`, `s3://${destinationBucket} at ${instance.destinationProxy.endpoint}`)!.runs().length;
      } finally {
        journal.close();
      }
    };
    const before = runs();
    const checksBefore = instance.destinationProxy.requests.filter(isCheckListing).length;
    instance.destinationProxy.setFaults({ choose: (request) => (isCheckListing(request) ? 'forbidden' : undefined) });
    try {
      const result = await runCli(['sync', '--config', config]);
      assert.equal(result.code, 2, result.stderr);
      assert.deepEqual(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^mastodon-s3-sync: \[destination\] access denied when trying to reach bucket "new-media" .*AccessDenied/);
      assert.equal(result.stdout, '', 'no summary');
      assert.equal(instance.destinationProxy.requests.filter(isCheckListing).length - checksBefore, 1, 'a refusal is not tried again');
    } finally {
      instance.destinationProxy.setFaults(undefined);
    }
    assert.equal(runs(), before);
  });

  test('a check answered with a 5xx is tried again and the run goes on; one that keeps failing is one line after three tries', async () => {
    const checksSent = (): number => instance.destinationProxy.requests.filter(isCheckListing).length;
    let before = checksSent();
    let failedOnce = false;
    instance.destinationProxy.setFaults({
      choose: (request) => {
        if (!isCheckListing(request) || failedOnce) return undefined;
        failedOnce = true;
        return 'slow-down';
      },
    });
    try {
      const result = await runCli(['sync', '--config', config, '--json']);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes('"summary"'), 'the run went on to its summary');
      assert.equal(checksSent() - before, 2, 'the 503 SlowDown, then the check that passed');
    } finally {
      instance.destinationProxy.setFaults(undefined);
    }

    before = checksSent();
    instance.destinationProxy.setFaults({ choose: (request) => (isCheckListing(request) ? 'internal-error' : undefined) });
    try {
      const result = await runCli(['sync', '--config', config]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `mastodon-s3-sync: [destination] cannot use bucket "${destinationBucket}" at ${instance.destinationProxy.endpoint} (500 InternalError)\n`);
      assert.equal(result.stdout, '', 'no summary');
      assert.equal(checksSent() - before, 3);
    } finally {
      instance.destinationProxy.setFaults(undefined);
    }
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

/** `promise`, or a failure naming what went wrong if it has not settled within `ms`. */
async function within<T>(ms: number, failure: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${failure} (nothing settled within ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
