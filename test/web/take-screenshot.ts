/**
 * Renders docs/dashboard.png: the dashboard in headless Chromium during a simulated migration
 * (real RunStats, real server, real page; only the traffic is made up). Run on demand, not by
 * `npm test`, since the picture changes with every run:
 *
 *   node --import tsx test/web/take-screenshot.ts [output.png]
 */
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/log.js';
import { RunStats, type ObjectEvent } from '../../src/stats/run-stats.js';
import { startDashboard } from '../../src/web/dashboard-server.js';
import { LogTail, teeToLogTail } from '../../src/web/log-tail.js';
import { runStatsSource } from '../../src/web/run-stats-source.js';
import { launchChromium } from '../helpers/browser.js';

const output = process.argv[2] ?? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const seconds = 40;

const stats = new RunStats();
const tail = new LogTail();
const discard = new PassThrough().resume();
const log = createLogger({ json: false, level: 'info', destination: teeToLogTail(discard, tail) });
const dashboard = await startDashboard({ source: runStatsSource(stats), port: 0, logTail: tail });
const browser = await launchChromium();

let nextId = 109_348_000_000_000_000n;
function partition(): string {
  nextId += 7_919_137n;
  return nextId.toString().padStart(18, '0').match(/.{3}/g)!.join('/');
}

function object(job: string, outcome: ObjectEvent['outcome'], key: string, bytes: number, reason?: string): void {
  stats.transferStarted(job);
  stats.objectDone({ job, key, outcome, bytes, reason });
}

try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(dashboard.url);
  log.info({ jobs: ['accounts', 'custom_emojis', 'media_attachments', 'preview_cards'] }, 'copying accounts, custom_emojis, media_attachments, preview_cards from s3://mastodon-old (us-east-1) to s3://mastodon-media (r2)');

  // Two short jobs that are already done.
  stats.startJob('accounts', 1840);
  stats.rowsRead('accounts', 1840, 3102);
  for (let index = 0; index < 3102; index += 1) {
    const outcome = index % 41 === 0 ? 'absent-style' : index % 3 === 0 ? 'skipped' : 'copied';
    object('accounts', outcome, `accounts/avatars/${partition()}/original/avatar.png`, outcome === 'absent-style' ? 0 : 48_000 + (index % 17) * 9_000);
  }
  stats.finishJob('accounts');
  log.info('accounts: 3102 objects, 97.1 MB copied');

  stats.startJob('custom_emojis', 312);
  stats.rowsRead('custom_emojis', 312, 624);
  for (let index = 0; index < 622; index += 1) object('custom_emojis', index % 2 === 0 ? 'copied' : 'skipped', `custom_emojis/images/000/000/${index}/original/emoji.png`, 6_400);
  for (const name of ['blobcat_heart', 'ms_rainbow_flag']) {
    const key = `custom_emojis/images/000/000/${name.length}00/original/${name}.png`;
    object('custom_emojis', 'missing', key, 0, 'in neither cache/ variant of the source');
    log.warn({ key }, `missing from the source: ${key}`);
  }
  stats.finishJob('custom_emojis');

  // Two that run while the page watches, at a throughput that breathes like a real bucket's.
  stats.startJob('media_attachments', 48_210);
  stats.rowsRead('media_attachments', 2000, 3870);
  setTimeout(() => {
    stats.startJob('preview_cards', 9_744);
    log.info('preview_cards: 9744 rows');
  }, 8000);
  const start = Date.now();
  let rowsRead = 2000;
  for (let tick = 0; Date.now() - start < seconds * 1000; tick += 1) {
    const wave = 1 + 0.45 * Math.sin(tick / 9) + 0.2 * Math.sin(tick / 2.3);
    for (let index = 0; index < Math.round(60 * wave); index += 1) {
      if (stats.jobs().find((job) => job.job === 'media_attachments')!.keys <= 60 + rowsRead * 1.9 && rowsRead < 48_210) {
        stats.rowsRead('media_attachments', 2000, 3870);
        rowsRead += 2000;
      }
      const id = partition();
      object('media_attachments', index % 7 === 0 ? 'skipped' : 'copied', `media_attachments/files/${id}/small/image.jpeg`, Math.round(180_000 * wave));
    }
    if (tick === 150 || tick === 260) {
      const key = `media_attachments/files/${partition()}/original/${tick === 150 ? 'video.mp4' : 'photo.heic'}`;
      const reason = tick === 150 ? 'SlowDown: Please reduce your request rate (gave up after 5 attempts)' : 'InternalError: We encountered an internal error. Please try again. (gave up after 5 attempts)';
      object('media_attachments', 'failed', key, 0, reason);
      log.error({ key, reason }, `failed: ${key}`);
    }
    if (tick === 210) object('media_attachments', 'missing', `media_attachments/files/${partition()}/original/audio.ogg`, 0, 'in neither cache/ variant of the source');
    if (stats.jobs().some((job) => job.job === 'preview_cards')) {
      for (let index = 0; index < Math.round(12 * wave); index += 1) {
        if (index === 0) stats.rowsRead('preview_cards', 8, 8);
        object('preview_cards', 'copied', `cache/preview_cards/images/${partition()}/original/card.jpg`, 42_000);
      }
    }
    for (let index = 0; index < 8; index += 1) stats.transferStarted('media_attachments');
    for (let index = 0; index < 8; index += 1) stats.objectDone({ job: 'media_attachments', key: `media_attachments/files/${partition()}/original/image.jpeg`, outcome: 'copied', bytes: 350_000 });
    if (tick % 50 === 49) log.info(`media_attachments: ${rowsRead} of 48210 rows read`);
    await sleep(100);
  }
  for (let index = 0; index < 16; index += 1) stats.transferStarted('media_attachments');
  for (let index = 0; index < 4; index += 1) stats.transferStarted('preview_cards');
  await sleep(1200);
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await dashboard.close();
}
