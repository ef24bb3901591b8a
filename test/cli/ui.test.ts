import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { binPath, dashboardUrlOf } from '../helpers/cli.js';
import { createTestInstance, type TestInstance } from '../helpers/test-instance.js';

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
      const page = await fetch(url);
      assert.equal(page.status, 200);
    } finally {
      cli.kill('SIGINT');
      const [code] = (await once(cli, 'exit')) as [number | null];
      assert.equal(code, 0);
    }
  });
});
