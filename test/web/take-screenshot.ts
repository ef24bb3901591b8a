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
/** How long the simulated run goes before the picture: long enough for the charts to fill. */
const seconds = 45;

const stats = new RunStats();
const tail = new LogTail();
const discard = new PassThrough().resume();
const log = await createLogger({ json: false, level: 'info', destination: teeToLogTail(discard, tail) });
const dashboard = await startDashboard({ source: runStatsSource(stats), port: 0, logTail: tail });
const browser = await launchChromium();

let nextId = 109_348_000_000_000_000n;
/** A snowflake id's Paperclip partition, as Mastodon lays keys out. */
function partition(): string {
  nextId += 7_919_137_331n;
  return nextId.toString().match(/.{3}/g)!.join('/');
}

/** A fixed-seed generator, so that every picture tells the same story. */
let seed = 20_240_611;
function noise(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}

interface SimulatedJob {
  job: string;
  rowsTotal: number;
  keysPerRow: number;
  /** Objects finished a tick (100 ms) on average. */
  perTick: number;
  startAfterMs: number;
  key: (index: number) => string;
  bytes: (index: number) => number;
  /** Anything but 'copied', with a reason where it failed. */
  outcome?: (index: number) => { outcome: ObjectEvent['outcome']; reason?: string } | undefined;
}

/** Drives one job through RunStats as the copy engine would: rows in batches, a pool of transfers in flight. */
async function simulate(spec: SimulatedJob, stop: AbortSignal): Promise<void> {
  await sleep(spec.startAfterMs);
  const { job } = spec;
  stats.startJob(job, spec.rowsTotal);
  log.info(`${job}: ${spec.rowsTotal} rows`);
  const keysTotal = Math.round(spec.rowsTotal * spec.keysPerRow);
  let rows = 0;
  let keys = 0;
  let started = 0;
  let done = 0;
  const startTransfer = (): void => {
    if (started >= keysTotal) return;
    if (started >= keys) {
      const batch = Math.min(500, spec.rowsTotal - rows);
      const batchKeys = rows + batch >= spec.rowsTotal ? keysTotal - keys : Math.round(batch * spec.keysPerRow);
      stats.rowsRead(job, batch, batchKeys);
      rows += batch;
      keys += batchKeys;
    }
    stats.transferStarted(job);
    started += 1;
  };
  for (let index = 0; index < 16; index += 1) startTransfer();
  for (let tick = 0; done < keysTotal && !stop.aborted; tick += 1) {
    // A throughput that breathes like a real bucket's.
    const wave = Math.max(0.15, 1 + 0.35 * Math.sin(tick / 11) + 0.25 * Math.sin(tick / 3.7) + 0.3 * (noise() - 0.5));
    for (let count = Math.round(spec.perTick * wave); count > 0 && done < keysTotal; count -= 1) {
      const special = spec.outcome?.(done);
      const key = spec.key(done);
      const outcome = special?.outcome ?? 'copied';
      stats.objectDone({ job, key, outcome, bytes: outcome === 'copied' || outcome === 'skipped' ? Math.round(spec.bytes(done) * wave) : 0, reason: special?.reason });
      if (outcome === 'failed') log.error({ key, reason: special?.reason }, `failed: ${key}`);
      if (outcome === 'missing') log.warn({ key }, `missing from the source: ${key}`);
      done += 1;
      startTransfer();
    }
    if (tick % 60 === 59) log.info(`${job}: ${rows} of ${spec.rowsTotal} rows read`);
    await sleep(100);
  }
  if (done >= keysTotal) {
    stats.finishJob(job);
    log.info(`${job}: finished, ${done} objects`);
  }
}

const failedAt = new Map([
  [5_200, 'writing to the destination: SlowDown: Please reduce your request rate. (after 5 attempts)'],
  [9_400, 'reading from the source: InternalError: We encountered an internal error. Please try again. (after 5 attempts)'],
]);

try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(dashboard.url);
  log.info('copying accounts, custom_emojis, media_attachments, preview_cards from s3.us-east-1.amazonaws.com/mastodon-old to r2.cloudflarestorage.com/mastodon-media');
  const stop = new AbortController();
  const jobs = Promise.all([
    simulate(
      {
        job: 'accounts',
        rowsTotal: 1840,
        keysPerRow: 1.7,
        perTick: 34,
        startAfterMs: 0,
        key: (index) => `accounts/${index % 2 === 0 ? 'avatars' : 'headers'}/${partition()}/original/${index % 2 === 0 ? 'avatar' : 'header'}.png`,
        bytes: (index) => 48_000 + (index % 17) * 9_000,
        outcome: (index) => (index % 41 === 0 ? { outcome: 'absent-style' } : index % 3 === 0 ? { outcome: 'skipped' } : undefined),
      },
      stop.signal,
    ),
    simulate(
      {
        job: 'custom_emojis',
        rowsTotal: 312,
        keysPerRow: 2,
        perTick: 14,
        startAfterMs: 9_500,
        key: (index) => `custom_emojis/images/000/000/${String(index).padStart(3, '0')}/${index % 2 === 0 ? 'original' : 'static'}/emoji.png`,
        bytes: () => 6_400,
        outcome: (index) => (index === 130 || index === 402 ? { outcome: 'missing', reason: 'not in source' } : index % 2 === 1 ? { outcome: 'skipped' } : undefined),
      },
      stop.signal,
    ),
    simulate(
      {
        job: 'media_attachments',
        rowsTotal: 48_210,
        keysPerRow: 1.93,
        perTick: 62,
        startAfterMs: 2_000,
        key: (index) => `media_attachments/files/${partition()}/${index % 2 === 0 ? 'original' : 'small'}/${['photo.jpeg', 'video.mp4', 'photo.heic', 'image.png'][index % 4]}`,
        bytes: (index) => (index % 2 === 0 ? 420_000 : 38_000),
        outcome: (index) => {
          const reason = failedAt.get(index);
          if (reason !== undefined) return { outcome: 'failed', reason };
          if (index === 7_700) return { outcome: 'missing', reason: 'not in source' };
          return index % 7 === 0 ? { outcome: 'skipped' } : undefined;
        },
      },
      stop.signal,
    ),
    simulate(
      {
        job: 'preview_cards',
        rowsTotal: 9_744,
        keysPerRow: 1,
        perTick: 13,
        startAfterMs: 14_000,
        key: () => `cache/preview_cards/images/${partition()}/original/card.jpg`,
        bytes: () => 42_000,
      },
      stop.signal,
    ),
  ]);
  await sleep(seconds * 1000);
  await page.screenshot({ path: output, fullPage: true });
  stop.abort();
  await jobs;
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await dashboard.close();
}
