/**
 * `status` and `ui` when the queue's Redis stops answering after they connected (frozen, killed,
 * cut off): status says so in one line within seconds instead of hanging, and the dashboard keeps
 * serving, says Redis is unreachable instead of passing its last counts off as live, answers
 * /metrics at once, and picks up again by itself once Redis is back. Each test has a redis-server
 * of its own, with a password (which nothing may print), so that it can freeze and kill it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { RedisRunStatus } from '../../src/queue/redis-run-status.js';
import { launchChromium } from '../helpers/browser.js';
import { dashboardUrlOf, startCli, type CliResult, type RunningCli } from '../helpers/cli.js';
import { startRedisServer, stopRedisServer, type PrivateRedis } from '../helpers/redis-server.js';
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js';
import { SseReader } from '../web/sse-reader.js';
import { eventually } from '../queue/test-redis.js';

const password = `pw-${randomBytes(6).toString('hex')}`;
const redacted = (port: number): string => `redis://:***@127.0.0.1:${port}`;
const urlFor = (port: number): string => `redis://:${password}@127.0.0.1:${port}`;

/**
 * Runs the CLI and returns what it printed, when its first stderr came (seconds after the start)
 * and how it ended; a CLI still silent after `ms`, or still running 5 s after it spoke, is killed
 * and fails the test: the bug this file is about is a hang.
 */
async function spokenWithin(args: string[], ms: number): Promise<CliResult & { spokeAfter: number }> {
  const cli = startCli(args);
  const startedAt = Date.now();
  try {
    const spokeAt = await eventually(async () => cli.output().stderr !== '' && Date.now(), ms, `the CLI to print something within ${ms / 1000} s`);
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), 5000);
    const result = await cli.result;
    clearTimeout(timer);
    assert.notEqual(result.signal, 'SIGKILL', `still running 5 s after it printed ${JSON.stringify(result.stderr)}`);
    return { ...result, spokeAfter: (spokeAt - startedAt) / 1000 };
  } finally {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  }
}

describe('status, when Redis stops answering', () => {
  let redis: PrivateRedis;
  let gate: TcpGate;
  beforeEach(async () => {
    redis = await startRedisServer({ password });
    gate = await startTcpGate(redis.port);
  });
  afterEach(async () => {
    await gate.close();
    await stopRedisServer(redis);
  });

  for (const failure of ['freeze', 'drop'] as const) {
    test(`Redis ${failure === 'freeze' ? 'frozen' : 'killed'} once status has connected: one line and exit 2 within about 10 s`, { timeout: 60_000 }, async () => {
      // The first read of the run's counters, after the connection and its PING went through.
      gate.failWhen(':status:', failure);
      const result = await spokenWithin(['status', '--queue', urlFor(gate.port)], 25_000);
      assert.ok(gate.failed, 'Redis stopped answering after status connected');
      assert.equal(
        result.stderr,
        `mastodon-s3-sync: Redis at ${redacted(gate.port)} stopped answering (no reply within 10 s): check that Redis is running and reachable from this machine, then run status again\n`,
      );
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.ok(result.spokeAfter >= 9.5 && result.spokeAfter < 12, `said so after ${result.spokeAfter} s`);
    });
  }

  test('Redis frozen before status connects: one line and exit 2 within the 5 s connect timeout', { timeout: 60_000 }, async () => {
    // The kernel still accepts the connection of a stopped process: only Redis's answer never comes.
    redis.process.kill('SIGSTOP');
    const result = await spokenWithin(['status', '--queue', urlFor(redis.port)], 25_000);
    assert.equal(
      result.stderr,
      `mastodon-s3-sync: cannot reach the queue's Redis at ${redacted(redis.port)}: no reply within 5 s; start Redis there, or point --queue (or [queue] url, or MASTODON_S3_SYNC_QUEUE_URL) at the Redis the run uses\n`,
    );
    assert.equal(result.code, 2);
    assert.ok(result.spokeAfter < 7, `said so after ${result.spokeAfter} s`);
  });
});

describe('ui, when Redis stops answering and comes back', () => {
  let browser: Browser;
  let redis: PrivateRedis;
  let writer: Redis;
  let ui: RunningCli;
  let url: string;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
  });

  /** What workers would have counted: 6 keys queued, 4 copied, 1 failed. */
  async function writeCounters(): Promise<void> {
    const status = new RedisRunStatus(writer, 'mastodon-s3-sync');
    await status.startEnqueue('accounts', 3, false);
    await status.batchEnqueued('accounts', { rows: 3, referenced: 6, added: 6, alreadyQueued: 0, cursor: '3' });
    for (const key of ['a', 'b', 'c', 'd']) await status.record({ job: 'accounts', key, outcome: 'copied', bytes: 10 });
    await status.record({ job: 'accounts', key: 'e', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
  }

  beforeEach(async () => {
    redis = await startRedisServer({ password });
    writer = new Redis(redis.url, { maxRetriesPerRequest: null });
    // Its reconnects while the test has Redis down are expected.
    writer.on('error', () => undefined);
    await writeCounters();
    ui = startCli(['ui', '--queue', redis.url, '--ui-port', '0']);
    url = await dashboardUrlOf(ui.child);
  });
  afterEach(async () => {
    writer.disconnect();
    redis.process.kill('SIGCONT');
    if (ui.child.exitCode === null) {
      ui.child.kill('SIGINT');
      await once(ui.child, 'exit');
    }
    await stopRedisServer(redis);
  });

  const unreachableLine = (): string =>
    `Redis at ${redacted(redis.port)} stopped answering (no reply within 3 s): check that Redis is running and reachable from this machine; the dashboard picks up again by itself once it answers`;

  /** One request, with how long it took; a hang fails the test instead of holding it. */
  async function timed(path: string): Promise<{ status: number; body: string; seconds: number }> {
    const startedAt = Date.now();
    const response = await fetch(new URL(path, url), { signal: AbortSignal.timeout(8000) });
    return { status: response.status, body: await response.text(), seconds: (Date.now() - startedAt) / 1000 };
  }

  const failedTotal = /^mastodon_s3_sync_objects_total\{job="accounts",outcome="failed"\} 1$/m;

  async function openPage(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForSelector('#status[data-state="live"]');
    assert.equal(await page.locator('#total-objects').textContent(), '5 / 6');
    assert.equal(await page.isVisible('#source-problem'), false);
    return page;
  }

  async function assertUnreachable(page: Page, events: SseReader): Promise<void> {
    const unavailable = await events.next((event) => event.event === 'unavailable', 10_000);
    assert.equal((JSON.parse(unavailable.data) as { reason: string }).reason, unreachableLine());
    for (const path of ['api/jobs', 'metrics', 'api/failures']) {
      const answer = await timed(path);
      assert.equal(answer.status, 503, `${path}: ${answer.body}`);
      assert.deepEqual(JSON.parse(answer.body), { error: unreachableLine() }, path);
      assert.ok(answer.seconds < 1, `${path} answered after ${answer.seconds} s, with Redis already known to be away`);
    }
    await page.waitForSelector('#status[data-state="unavailable"]');
    assert.equal(await page.locator('#source-problem').textContent(), unreachableLine());
    assert.match((await page.locator('#status-text').textContent()) ?? '', /^not live: counts as of \d\d:\d\d:\d\d$/);
    assert.equal(await page.locator('#total-objects').textContent(), '5 / 6', 'the last counts stay, marked as not live');
    assert.equal((await timed('')).status, 200, 'the page itself is still served');
  }

  async function assertRecovered(page: Page): Promise<void> {
    await eventually(async () => (await timed('api/jobs')).status === 200, 15_000, '/api/jobs to answer again');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    assert.equal(await page.isVisible('#source-problem'), false);
    // A Redis started again is empty until the test has written the counts back, and the dashboard
    // may reconnect in between: the page is live with 0 / 0 for a tick, then shows them.
    await page.waitForFunction(() => document.querySelector('#total-objects')?.textContent === '5 / 6', undefined, { timeout: 5000 });
    const metrics = await timed('metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, failedTotal);
    const { stderr } = ui.output();
    assert.equal(stderr.split('\n').filter((line) => line.includes(unreachableLine())).length, 1, `one warning, not one a poll:\n${stderr}`);
    assert.match(stderr, /Redis answers again: the dashboard is live/);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(stderr, new RegExp(password), 'no password');
  }

  test('frozen: /metrics and the API answer 503 at once, the page and the event stream say Redis is unreachable; thawed, all is live again', { timeout: 90_000 }, async () => {
    const page = await openPage();
    const { reader: events } = await SseReader.open(new URL('api/events', url).toString());
    try {
      await events.next((event) => event.event === 'snapshot');
      redis.process.kill('SIGSTOP');
      // The first read to meet the frozen Redis waits for it the 3 s bound, no longer.
      const first = await timed('metrics');
      assert.equal(first.status, 503, first.body);
      assert.ok(first.seconds < 4.5, `the first /metrics after the freeze took ${first.seconds} s`);
      await assertUnreachable(page, events);

      redis.process.kill('SIGCONT');
      await assertRecovered(page);
    } finally {
      events.close();
      await page.close();
    }
  });

  test("bull-board at /queues: its page and its API answer 503 with the same line while Redis is frozen, and serve again once it thaws", { timeout: 60_000 }, async () => {
    assert.equal((await timed('queues')).status, 200);
    const before = await timed('queues/api/queues');
    assert.equal(before.status, 200, before.body);
    redis.process.kill('SIGSTOP');
    // The board's first read to meet the frozen Redis waits for it the 3 s bound, no longer.
    const first = await timed('queues/api/queues');
    assert.equal(first.status, 503, first.body);
    assert.deepEqual(JSON.parse(first.body), { error: unreachableLine() });
    assert.ok(first.seconds < 4.5, `the first /queues/api/queues after the freeze took ${first.seconds} s`);
    for (const path of ['queues', 'queues/api/queues', 'queues/api/redis/stats', 'api/jobs']) {
      const answer = await timed(path);
      assert.equal(answer.status, 503, `${path}: ${answer.body}`);
      assert.deepEqual(JSON.parse(answer.body), { error: unreachableLine() }, path);
      assert.ok(answer.seconds < 1, `${path} answered after ${answer.seconds} s, with Redis already known to be away`);
    }

    redis.process.kill('SIGCONT');
    await eventually(async () => (await timed('queues/api/queues')).status === 200, 15_000, "the board's API to answer again");
    const page = await timed('queues');
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /<html/i);
    const { stderr } = ui.output();
    assert.equal(stderr.split('\n').filter((line) => line.includes(unreachableLine())).length, 1, `one warning:\n${stderr}`);
    assert.match(stderr, /Redis answers again: the dashboard is live/);
  });

  test('killed and started again on its port: the dashboard says so meanwhile, then picks up the counts again by itself', { timeout: 90_000 }, async () => {
    const page = await openPage();
    const { reader: events } = await SseReader.open(new URL('api/events', url).toString());
    try {
      await events.next((event) => event.event === 'snapshot');
      redis.process.kill('SIGKILL');
      await once(redis.process, 'exit');
      const first = await timed('api/jobs');
      assert.equal(first.status, 503, first.body);
      assert.ok(first.seconds < 4.5, `the first /api/jobs after the kill took ${first.seconds} s`);
      await assertUnreachable(page, events);

      redis = await startRedisServer({ port: redis.port, password });
      // This Redis keeps nothing on disk; a real one reloads its dump.
      await writeCounters();
      await assertRecovered(page);
    } finally {
      events.close();
      await page.close();
    }
  });
});
