/**
 * Reaching the queue as an admin sets it up: a Redis that wants a password (a private
 * redis-server started with one), and `status` / `ui` on a machine that has no config file,
 * only the MASTODON_S3_SYNC_QUEUE_* variables the deployment guide sets.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startRedisServer, stopRedisServer, type PrivateRedis } from '../helpers/redis-server.js';

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
});
