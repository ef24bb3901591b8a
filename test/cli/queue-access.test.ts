/**
 * Reaching the queue as an admin sets it up: a Redis that wants a password (a private
 * redis-server started with one), and `status` / `ui` on a machine that has no config file,
 * only the MASTODON_S3_SYNC_QUEUE_* variables the deployment guide sets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisRunStatus } from '../../src/queue/redis-run-status.js';
import { dashboardUrlOf, runCli, startCli } from '../helpers/cli.js';
import { startRedisServer, stopRedisServer, type PrivateRedis } from '../helpers/redis-server.js';
import { eventually } from '../queue/test-redis.js';

const password = `pw-${randomBytes(6).toString('hex')}`;

describe('reaching the queue', () => {
  let redis: PrivateRedis;
  let directory: string;
  /** A config whose [queue] is all that matters: the commands reach Redis before the database or a storage. */
  let config: string;

  before(async () => {
    redis = await startRedisServer({ password });
    directory = await mkdtemp(path.join(tmpdir(), 'mss-queue-access-'));
    config = path.join(directory, 'config.ini');
    const storage = 'type = s3\nendpoint = http://127.0.0.1:1\nbucket = media\naccess_key_id = K\nsecret_access_key = S\n';
    await writeFile(config, `[database]\nurl = postgres://127.0.0.1:1/none\n\n[source]\n${storage}\n[destination]\n${storage}`);
  });

  after(async () => {
    await stopRedisServer(redis);
    await rm(directory, { recursive: true, force: true });
  });

  test('a Redis that wants a password: a wrong one, or none, is one line that says so, never the password', async () => {
    const cases = [
      {
        url: `redis://:not-${password}@127.0.0.1:${redis.port}`,
        line: `mastodon-s3-sync: the queue's Redis at redis://:***@127.0.0.1:${redis.port} refused the password in the URL (WRONGPASS): write Redis's password (its requirepass) in the URL, redis://:PASSWORD@HOST:6379, percent-encoding # / @ as %23 %2F %40`,
      },
      {
        url: `redis://127.0.0.1:${redis.port}`,
        line: `mastodon-s3-sync: the queue's Redis at redis://127.0.0.1:${redis.port} wants a password (NOAUTH): write Redis's password (its requirepass) in the URL, redis://:PASSWORD@HOST:6379, percent-encoding # / @ as %23 %2F %40`,
      },
    ];
    for (const { url, line } of cases) {
      for (const command of ['enqueue', 'worker', 'status', 'ui']) {
        const result = await runCli([command, '--config', config, '--queue', url]);
        assert.equal(result.code, 2, `${command}: ${result.stderr}`);
        assert.equal(result.stderr.trim(), line, command);
        assert.doesNotMatch(result.stdout + result.stderr, new RegExp(password), command);
      }
    }
  });

  test('a worker started before enqueue names the queue it waits on, so that a wrong prefix shows', async () => {
    const prefix = `mss-access-${randomBytes(4).toString('hex')}`;
    // Storages the worker can check: directories.
    const [source, destination] = [path.join(directory, 'source'), path.join(directory, 'destination')];
    await Promise.all([mkdir(source), mkdir(destination)]);
    const onDisk = path.join(directory, 'on-disk.ini');
    await writeFile(onDisk, `[database]\nurl = postgres://127.0.0.1:1/none\n\n[source]\ntype = fs\npath = ${source}\n\n[destination]\ntype = fs\npath = ${destination}\n`);
    const worker = startCli(['worker', '--config', onDisk, '--queue', redis.url], { env: { MASTODON_S3_SYNC_QUEUE_PREFIX: prefix } });
    try {
      await eventually(async () => /waiting for enqueue/.test(worker.output().stderr), 15_000, 'the worker to wait');
    } finally {
      worker.child.kill('SIGTERM');
    }
    const result = await worker.result;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`INFO: the queue at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port} \\(prefix ${prefix}\\) holds no run yet: waiting for enqueue\n`));
    assert.doesNotMatch(result.stderr, new RegExp(password));
  });

  test('status and ui need no config file: the MASTODON_S3_SYNC_QUEUE_* and _UI_* variables are enough', async () => {
    const prefix = `mss-access-${randomBytes(4).toString('hex')}`;
    const client = new Redis(redis.url);
    try {
      const status = new RedisRunStatus(client, prefix);
      await status.claim({ destinationIdentity: 's3:new-media/', destination: 's3://new-media', source: 's3://media', createdAt: Date.now() });
      await status.startEnqueue('accounts', 3, false);
    } finally {
      await client.quit();
    }
    // A folder without private/config.ini, as on an admin's laptop.
    const env = { MASTODON_S3_SYNC_QUEUE_URL: redis.url, MASTODON_S3_SYNC_QUEUE_PREFIX: prefix };
    const result = await runCli(['status'], { env, cwd: directory });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^queue redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port} \\(prefix ${prefix}\\): 0 waiting`));
    assert.match(result.stdout, /^run: s3:\/\/media → s3:\/\/new-media, since /m);

    // docker-compose.yml's dashboard: on every address, its token from MASTODON_S3_SYNC_UI_TOKEN (empty when unset).
    const open = await runCli(['ui', '--ui-host', '0.0.0.0', '--ui-port', '0'], { env: { ...env, MASTODON_S3_SYNC_UI_TOKEN: '' }, cwd: directory });
    assert.equal(open.code, 2, open.stderr);
    assert.equal(
      open.stderr,
      'mastodon-s3-sync: the dashboard would listen on 0.0.0.0, which other machines can reach: pass --ui-token TOKEN, or set [ui] token or MASTODON_S3_SYNC_UI_TOKEN (or listen on 127.0.0.1)\n',
    );

    const token = 'laptop-token';
    const ui = startCli(['ui', '--ui-port', '0'], { env: { ...env, MASTODON_S3_SYNC_UI_TOKEN: token }, cwd: directory });
    try {
      const url = await dashboardUrlOf(ui.child);
      assert.equal((await fetch(new URL('/api/jobs', url))).status, 401, 'the token from MASTODON_S3_SYNC_UI_TOKEN is required');
      const jobs = (await (await fetch(new URL('/api/jobs', url), { headers: { authorization: `Bearer ${token}` } })).json()) as { jobs: { job: string; rowsTotal: number }[] };
      assert.deepEqual(
        jobs.jobs.map(({ job, rowsTotal }) => ({ job, rowsTotal })),
        [{ job: 'accounts', rowsTotal: 3 }],
        "the run under MASTODON_S3_SYNC_QUEUE_PREFIX's prefix",
      );
    } finally {
      ui.child.kill('SIGINT');
      const [code] = (await once(ui.child, 'exit')) as [number | null];
      assert.equal(code, 0, ui.output().stderr);
    }
  });
});
