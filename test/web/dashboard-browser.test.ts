import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { RunStats } from '../../src/stats/run-stats.js';
import { startDashboard, type Dashboard } from '../../src/web/dashboard-server.js';
import { LogTail } from '../../src/web/log-tail.js';
import { runStatsSource } from '../../src/web/run-stats-source.js';
import { launchChromium } from '../helpers/browser.js';

const token = 'browser-test-token';
let browser: Browser;
let dashboard: Dashboard;
let stats: RunStats;
let tail: LogTail;

before(async () => {
  browser = await launchChromium();
  stats = new RunStats();
  tail = new LogTail();
  dashboard = await startDashboard({ source: runStatsSource(stats), port: 0, token, logTail: tail, tickMs: 200 });
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
});

test('in Chromium, the page follows a job from 0 to 100% and lists its failure with the key', async () => {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(`${dashboard.url}?token=${token}`);
  await page.waitForSelector('#status[data-state="live"]');
  assert.equal(await page.isVisible('#jobs-empty'), true);

  const failedKey = 'media_attachments/files/109/876/543/original/broken.mp4';
  stats.startJob('media_attachments', 20);
  tail.append('{"level":30,"time":1700000000000,"msg":"copying media_attachments"}\n');
  const card = page.locator('[data-job="media_attachments"]');
  await card.waitFor();
  assert.equal(await card.locator('.percent').textContent(), '0%');

  for (let id = 1; id <= 20; id += 1) {
    stats.rowsRead('media_attachments', 1, 2);
    for (const style of ['original', 'small']) {
      const key = style === 'original' && id === 13 ? failedKey : `media_attachments/files/${id}/${style}/file.jpg`;
      stats.transferStarted('media_attachments');
      stats.objectDone(key === failedKey ? { job: 'media_attachments', key, outcome: 'failed', bytes: 0, reason: 'SlowDown: please reduce your request rate' } : { job: 'media_attachments', key, outcome: 'copied', bytes: 50_000 });
    }
    if (id === 10) {
      // Halfway: the bar shows it, not only the end state.
      await page.waitForFunction(() => document.querySelector('[data-job="media_attachments"] .percent')?.textContent === '50%');
    }
    await sleep(20);
  }
  stats.finishJob('media_attachments');
  tail.append('{"level":50,"time":1700000001000,"msg":"media_attachments: 1 object failed"}\n');

  await page.waitForSelector('[data-job="media_attachments"][data-state="finished"]');
  assert.equal(await card.locator('.percent').textContent(), '100%');
  assert.equal(await card.locator('.objects').textContent(), '40 / 40 objects');
  assert.equal(await card.locator('.bar').getAttribute('aria-valuenow'), '100');
  assert.equal(await card.locator('.counts .copied dd').textContent(), '39');
  assert.equal(await card.locator('.counts .failed dd').textContent(), '1');

  const failureRow = page.locator('#failures tbody tr', { hasText: failedKey });
  await failureRow.waitFor();
  assert.equal(await failureRow.locator('td.key').textContent(), failedKey);
  assert.equal(await failureRow.locator('td.reason').textContent(), 'SlowDown: please reduce your request rate');
  assert.equal(await failureRow.locator('.outcome').textContent(), 'failed');

  await page.locator('#log div', { hasText: 'media_attachments: 1 object failed' }).waitFor();
  await page.waitForSelector('#status[data-state="finished"]');
  assert.equal(await page.locator('#total-objects').textContent(), '40 / 40');
  // The throughput chart was drawn from the samples.
  assert.notEqual(await card.locator('svg.chart path.area').getAttribute('d'), '');
  assert.deepEqual(pageErrors, [], 'the page logged errors (a CSP violation would show here)');
  await page.close();
});
