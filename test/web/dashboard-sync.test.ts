import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { binPath, dashboardUrlOf } from '../helpers/cli.js';
import { insertMediaAttachment } from '../helpers/postgres.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, s3Section, destinationBucket, type TestInstance } from '../helpers/test-instance.js';

const imageCount = 30;
const brokenKey = 'media_attachments/files/000/000/003/original/ffffffffffffff03.png';

describe('the dashboard during a real sync', () => {
  let instance: TestInstance;
  let proxy: S3Proxy;
  let browser: Browser;

  before(async () => {
    [instance, browser] = await Promise.all([createTestInstance(), launchChromium()]);
    proxy = await startS3Proxy(instance.destinationServer.endpoint);
    // The destination refuses one object every time: it must end up in the failures table.
    proxy.setFaults({ choose: (request) => (request.method === 'PUT' && request.path.endsWith(brokenKey) ? 'internal-error' : undefined) });
    for (let index = 1; index <= imageCount; index += 1) {
      const name = `ffffffffffffff${String(index).padStart(2, '0')}.png`;
      await insertMediaAttachment(instance.database.client, { id: String(index), file_file_name: name, file_content_type: 'image/png' });
      const partition = `000/000/${String(index).padStart(3, '0')}`;
      await instance.seed(`media_attachments/files/${partition}/original/${name}`, `image ${index}`, { contentType: 'image/png' });
      await instance.seed(`media_attachments/files/${partition}/small/${name}`, `small ${index}`, { contentType: 'image/png' });
    }
  });
  after(async () => {
    await browser.close();
    await proxy.close();
    await instance.close();
  });

  test('a dry run\'s page says so and counts what would be copied, and nothing is written', async () => {
    const config = await instance.writeConfig();
    const cli = spawn(process.execPath, [binPath, 'sync', 'media_attachments', '--config', config, '--dry-run', '--no-state', '--json', '--ui', '--ui-port', '0', '--ui-linger'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await dashboardUrlOf(cli);
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForSelector('[data-job="media_attachments"][data-state="finished"]', { timeout: 60_000 });
      const card = page.locator('[data-job="media_attachments"]');
      assert.equal(await page.locator('#dry-run').textContent(), 'dry run · nothing is written');
      assert.equal(await page.locator('.tile', { has: page.locator('#total-bytes') }).locator('.label').textContent(), 'Data to copy');
      assert.equal(await card.locator('.counts .copied dt').textContent(), 'would copy');
      assert.equal(await card.locator('.counts .copied dd').textContent(), String(imageCount * 2));
      assert.deepEqual(await instance.destinationKeys(), []);
    } finally {
      cli.kill('SIGINT');
      const [code] = (await once(cli, 'exit')) as [number | null];
      assert.equal(code, 0);
    }
  });

  test('shows the progress reach 100% and the failed key', async () => {
    const config = await instance.writeConfig({
      destination: s3Section(proxy.endpoint, destinationBucket),
      sync: { concurrency: 4 },
    });
    const cli = spawn(process.execPath, [binPath, 'sync', '--config', config, '--json', '--ui', '--ui-port', '0', '--ui-linger'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await dashboardUrlOf(cli);
    try {
      const page = await browser.newPage();
      await page.goto(url);
      const card = page.locator('[data-job="media_attachments"]');
      await card.waitFor();
      await page.waitForSelector('[data-job="media_attachments"][data-state="finished"]', { timeout: 60_000 });
      assert.equal(await card.locator('.percent').textContent(), '100%');
      assert.equal(await card.locator('.objects').textContent(), `${imageCount * 2} / ${imageCount * 2} objects`);
      assert.equal(await card.locator('.counts .failed dd').textContent(), '1');
      assert.equal(await card.locator('.counts .copied dt').textContent(), 'copied');
      assert.equal(await page.locator('#dry-run').count(), 0);
      const failureRow = page.locator('#failures tbody tr', { hasText: brokenKey });
      await failureRow.waitFor();
      assert.equal(await failureRow.locator('td.key').textContent(), brokenKey);
      // Every object's transfer time reached the latency histogram.
      const metrics = (await (await fetch(new URL('/metrics', url))).text()).split('\n');
      assert.ok(metrics.includes(`mastodon_s3_sync_object_seconds_count{job="media_attachments",outcome="copied"} ${imageCount * 2 - 1}`), metrics.filter((line) => line.includes('object_seconds_count')).join('\n'));
      assert.ok(metrics.includes('mastodon_s3_sync_object_seconds_count{job="media_attachments",outcome="failed"} 1'));
    } finally {
      cli.kill('SIGINT');
      const [code] = (await once(cli, 'exit')) as [number | null];
      assert.equal(code, 1, 'one object failed, so the run exits 1');
    }
  });
});
