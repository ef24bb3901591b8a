import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { binPath, dashboardUrlOf } from '../helpers/cli.js';
import { createTestInstance, type TestInstance } from '../helpers/test-instance.js';
import { RedisRunStatus } from '../../src/queue/redis-run-status.js';
import { cleanUp, testRedis, testRedisUrl } from '../queue/test-redis.js';

describe('ui: the dashboard of a queued run', () => {
  let instance: TestInstance;
  before(async () => {
    instance = await createTestInstance();
  });
  after(() => instance.close());

  test('serves the run from Redis, bull-board at /queues, and quits on Ctrl-C', async () => {
    const prefix = `mss-ui-test-${randomBytes(4).toString('hex')}`;
    const config = await instance.writeConfig({ queue: { url: 'redis://127.0.0.1:6379', prefix } });
    const cli = spawn(process.execPath, [binPath, 'ui', '--config', config, '--ui-port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await dashboardUrlOf(cli);
    try {
      const jobs = (await (await fetch(new URL('/api/jobs', url))).json()) as { jobs: unknown[] };
      assert.deepEqual(jobs.jobs, [], 'nothing enqueued under this prefix yet');
      const board = await fetch(new URL('/queues', url));
      assert.equal(board.status, 200);
      assert.match(await board.text(), /bull-board|Bull Dashboard/i);
      // Workers time no object into Redis: /metrics has the counts, and no histogram that stays empty.
      const writer = testRedis();
      try {
        const status = new RedisRunStatus(writer, prefix);
        await status.startEnqueue('accounts', 1, false);
        await status.batchEnqueued('accounts', { rows: 1, referenced: 1, added: 1, alreadyQueued: 0, cursor: '1' });
        await status.record({ job: 'accounts', key: 'a', outcome: 'copied', bytes: 10, durationMs: 20 });
      } finally {
        await writer.quit();
      }
      const metrics = await fetch(new URL('/metrics', url));
      assert.equal(metrics.status, 200);
      const scrape = await metrics.text();
      assert.match(scrape, /^mastodon_s3_sync_objects_total\{job="accounts",outcome="copied"\} 1$/m);
      assert.doesNotMatch(scrape, /object_seconds/);
      const page = await fetch(url);
      assert.equal(page.status, 200);
      // The workers log on their own machines: the page says so instead of waiting for a line that never comes.
      const html = await page.text();
      assert.match(html, /<p class="empty" id="log-empty">Each worker logs on its own machine; the counts and the latest failures above are the whole run's\.<\/p>/);
    } finally {
      cli.kill('SIGINT');
      const [code] = (await once(cli, 'exit')) as [number | null];
      await cleanUp({ url: testRedisUrl, prefix });
      assert.equal(code, 0);
    }
  });

  test('behind a token, bull-board loads: its scripts and API calls, which cannot carry ?token=, get through', async () => {
    const prefix = `mss-ui-test-${randomBytes(4).toString('hex')}`;
    const token = 'board-token';
    const config = await instance.writeConfig({ queue: { url: 'redis://127.0.0.1:6379', prefix } }, 'ui-token.ini');
    const cli = spawn(process.execPath, [binPath, 'ui', '--config', config, '--ui-port', '0', '--ui-token', token, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await dashboardUrlOf(cli);
    try {
      // What a browser does: open the link with ?token=, then fetch what the page names, sending back its cookies.
      const board = await fetch(new URL(`/queues?token=${token}`, url));
      assert.equal(board.status, 200);
      const cookies = board.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
      const script = /<script defer src="([^"]+)"/.exec(await board.text())?.[1];
      assert.ok(script !== undefined, 'the board page names its scripts');
      const asBrowser = { headers: { cookie: cookies } };
      assert.equal((await fetch(new URL(script, new URL('/queues/', url)), asBrowser)).status, 200, "the board's script");
      assert.equal((await fetch(new URL('/queues/api/queues', url), asBrowser)).status, 200, "the board's API");
      assert.equal((await fetch(new URL('/queues/api/queues', url))).status, 401, 'still nothing without the token');
    } finally {
      cli.kill('SIGINT');
      const [code] = (await once(cli, 'exit')) as [number | null];
      assert.equal(code, 0);
    }
  });
});
