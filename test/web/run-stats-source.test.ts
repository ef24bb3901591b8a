import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunStats, type ObjectEvent } from '../../src/stats/run-stats.js';
import type { DashboardChange } from '../../src/web/dashboard-source.js';
import { runStatsSource } from '../../src/web/run-stats-source.js';

function finish(stats: RunStats, event: ObjectEvent): void {
  stats.transferStarted(event.job);
  stats.objectDone(event);
}

test('records failed and missing objects, newest first, and nothing else', async () => {
  const stats = new RunStats();
  const source = runStatsSource(stats);
  stats.startJob('accounts', 2);
  stats.startJob('media_attachments', 2);
  finish(stats, { job: 'accounts', key: 'accounts/avatars/1/original/a.png', outcome: 'copied', bytes: 10 });
  finish(stats, { job: 'accounts', key: 'accounts/avatars/2/original/b.png', outcome: 'missing', bytes: 0 });
  finish(stats, { job: 'media_attachments', key: 'media_attachments/files/3/original/c.mp4', outcome: 'failed', bytes: 0, reason: 'SlowDown after 5 attempts' });
  finish(stats, { job: 'accounts', key: 'accounts/avatars/1/static/a.png', outcome: 'absent-style', bytes: 0 });
  finish(stats, { job: 'accounts', key: 'accounts/headers/4/original/d.png', outcome: 'skipped', bytes: 5 });

  const all = await source.failures({ limit: 10 });
  assert.deepEqual(
    all.map((failure) => [failure.job, failure.outcome, failure.key, failure.reason]),
    [
      ['media_attachments', 'failed', 'media_attachments/files/3/original/c.mp4', 'SlowDown after 5 attempts'],
      // No reason given: the outcome stands in, so the page never shows an empty cell.
      ['accounts', 'missing', 'accounts/avatars/2/original/b.png', 'missing'],
    ],
  );
  assert.ok(all.every((failure) => typeof failure.time === 'number' && failure.time > 0));
  assert.deepEqual(
    (await source.failures({ job: 'accounts', limit: 10 })).map((failure) => failure.key),
    ['accounts/avatars/2/original/b.png'],
  );
  assert.equal((await source.failures({ limit: 1 })).length, 1);
  assert.deepEqual(
    (await source.jobs()).map((job) => job.job),
    ['accounts', 'media_attachments'],
  );
});

test('keeps only the last N failures', async () => {
  const stats = new RunStats();
  const source = runStatsSource(stats, { failureCapacity: 3 });
  stats.startJob('backups', 5);
  for (let id = 1; id <= 5; id += 1) finish(stats, { job: 'backups', key: `backups/dumps/${id}/original/dump.tar.gz`, outcome: 'failed', bytes: 0, reason: `error ${id}` });
  assert.deepEqual(
    (await source.failures({ limit: 10 })).map((failure) => failure.reason),
    ['error 5', 'error 4', 'error 3'],
  );
});

test('subscribers hear job starts and finishes and every object, until they unsubscribe', () => {
  const stats = new RunStats();
  const source = runStatsSource(stats);
  const changes: DashboardChange[] = [];
  const unsubscribe = source.subscribe((change) => changes.push(change));
  stats.startJob('custom_emojis', 1);
  finish(stats, { job: 'custom_emojis', key: 'custom_emojis/images/1/original/blob.png', outcome: 'copied', bytes: 3 });
  stats.finishJob('custom_emojis');
  unsubscribe();
  stats.startJob('site_uploads', 1);
  assert.deepEqual(
    changes.map((change) => (change.type === 'job' ? `job ${change.job}` : `object ${change.event.outcome}`)),
    ['job custom_emojis', 'object copied', 'job custom_emojis'],
  );
});

test('detach() stops recording; what was recorded stays', async () => {
  const stats = new RunStats();
  const source = runStatsSource(stats);
  stats.startJob('imports', 2);
  finish(stats, { job: 'imports', key: 'imports/data/1/original/a.csv', outcome: 'failed', bytes: 0, reason: 'one' });
  source.detach();
  finish(stats, { job: 'imports', key: 'imports/data/2/original/b.csv', outcome: 'failed', bytes: 0, reason: 'two' });
  assert.deepEqual(
    (await source.failures({ limit: 10 })).map((failure) => failure.reason),
    ['one'],
  );
});
