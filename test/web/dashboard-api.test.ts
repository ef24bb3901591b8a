import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { RunStats, type ObjectEvent } from '../../src/stats/run-stats.js';
import { startDashboard, type Dashboard } from '../../src/web/dashboard-server.js';
import type { Snapshot } from '../../src/web/dashboard-state.js';
import type { JobView } from '../../src/web/job-view.js';
import { LogTail } from '../../src/web/log-tail.js';
import { runStatsSource } from '../../src/web/run-stats-source.js';
import { SseReader } from './sse-reader.js';

let stats: RunStats;
let tail: LogTail;
let dashboard: Dashboard;

before(async () => {
  stats = new RunStats();
  tail = new LogTail(50);
  dashboard = await startDashboard({ source: runStatsSource(stats), port: 0, logTail: tail, tickMs: 100 });
});

after(async () => {
  await dashboard.close();
});

function finish(event: ObjectEvent): void {
  stats.transferStarted(event.job);
  stats.objectDone(event);
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(new URL(path, dashboard.url));
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  return (await response.json()) as T;
}

async function jobNamed(name: string): Promise<JobView> {
  const { jobs } = await getJson<{ jobs: JobView[] }>('/api/jobs');
  const job = jobs.find((candidate) => candidate.job === name);
  assert.ok(job, `no job ${name} in ${JSON.stringify(jobs)}`);
  return job;
}

test('binds 127.0.0.1 on the asked port and reports its URL', () => {
  assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

test('GET /api/jobs: the counters of every job and the derived progress', async () => {
  stats.startJob('accounts', 10);
  stats.rowsRead('accounts', 5, 8);
  finish({ job: 'accounts', key: 'accounts/avatars/1/original/a.png', outcome: 'copied', bytes: 1500 });
  finish({ job: 'accounts', key: 'accounts/avatars/2/original/b.png', outcome: 'skipped', bytes: 700 });
  finish({ job: 'accounts', key: 'accounts/avatars/3/original/c.png', outcome: 'missing', bytes: 0 });
  finish({ job: 'accounts', key: 'accounts/avatars/3/static/c.png', outcome: 'absent-style', bytes: 0 });
  stats.transferStarted('accounts');
  stats.transferStarted('accounts');

  const running = await jobNamed('accounts');
  assert.equal(running.state, 'running');
  assert.equal(running.rows, 5);
  assert.equal(running.rowsTotal, 10);
  assert.equal(running.keys, 8);
  // 8 keys for 5 of 10 rows: 16 expected.
  assert.equal(running.expected, 16);
  assert.equal(running.done, 4);
  assert.equal(running.percent, 25);
  assert.deepEqual(
    [running.copied, running.skipped, running.missing, running.absent, running.failed, running.inFlight],
    [1, 1, 1, 1, 0, 2],
  );
  assert.equal(running.bytes, 1500);
  assert.equal(running.skippedBytes, 700);
  assert.equal(running.finishedAt, null);

  stats.rowsRead('accounts', 5, 8);
  stats.objectDone({ job: 'accounts', key: 'accounts/headers/4/original/d.png', outcome: 'copied', bytes: 500 });
  stats.objectDone({ job: 'accounts', key: 'accounts/headers/5/original/e.png', outcome: 'failed', bytes: 0, reason: 'AccessDenied' });
  for (let id = 6; id <= 15; id += 1) finish({ job: 'accounts', key: `accounts/headers/${id}/original/x.png`, outcome: 'copied', bytes: 100 });
  stats.finishJob('accounts');

  const finished = await jobNamed('accounts');
  assert.equal(finished.state, 'finished');
  assert.equal(finished.done, 16);
  assert.equal(finished.expected, 16);
  assert.equal(finished.percent, 100);
  assert.equal(finished.failed, 1);
  assert.equal(finished.bytes, 1500 + 500 + 1000);
  assert.equal(finished.etaSeconds, null);
  assert.equal(typeof finished.finishedAt, 'number');
});

test('GET /api/failures: newest first, by job, limited; a bad limit is a 400', async () => {
  stats.startJob('media_attachments', 3);
  stats.rowsRead('media_attachments', 3, 6);
  finish({ job: 'media_attachments', key: 'media_attachments/files/1/original/a.mp4', outcome: 'failed', bytes: 0, reason: 'InternalError after 5 attempts' });
  finish({ job: 'media_attachments', key: 'media_attachments/files/2/original/b.jpg', outcome: 'missing', bytes: 0, reason: 'in neither cache/ variant of the source' });

  const { failures } = await getJson<{ failures: { job: string; key: string; outcome: string; reason: string; time: number }[] }>('/api/failures');
  assert.deepEqual(
    failures.map((failure) => failure.key),
    ['media_attachments/files/2/original/b.jpg', 'media_attachments/files/1/original/a.mp4', 'accounts/headers/5/original/e.png', 'accounts/avatars/3/original/c.png'],
  );
  assert.deepEqual(failures[0], { ...failures[0], job: 'media_attachments', outcome: 'missing', reason: 'in neither cache/ variant of the source' });

  const accounts = await getJson<{ failures: { key: string; reason: string }[] }>('/api/failures?job=accounts');
  assert.deepEqual(
    accounts.failures.map((failure) => [failure.key, failure.reason]),
    [
      ['accounts/headers/5/original/e.png', 'AccessDenied'],
      ['accounts/avatars/3/original/c.png', 'missing'],
    ],
  );

  const one = await getJson<{ failures: unknown[] }>('/api/failures?limit=1');
  assert.equal(one.failures.length, 1);

  for (const bad of ['0', '-3', 'ten', '100000']) {
    const response = await fetch(new URL(`/api/failures?limit=${bad}`, dashboard.url));
    assert.equal(response.status, 400, `limit=${bad}`);
  }
});

test('GET /api/logs: the last lines of the log tail', async () => {
  for (let index = 1; index <= 60; index += 1) tail.append(`{"level":30,"time":${Date.now()},"msg":"line ${index}"}\n`);
  const all = await getJson<{ lines: { seq: number; line: string }[] }>('/api/logs');
  // The tail keeps 50.
  assert.equal(all.lines.length, 50);
  assert.match(all.lines.at(-1)!.line, /"line 60"/);
  const three = await getJson<{ lines: { line: string }[] }>('/api/logs?limit=3');
  assert.deepEqual(
    three.lines.map((line) => (JSON.parse(line.line) as { msg: string }).msg),
    ['line 58', 'line 59', 'line 60'],
  );
});

test('GET /api/events: a full snapshot on connect, then updates as the run moves', async () => {
  const { reader, status, contentType } = await SseReader.open(new URL('/api/events', dashboard.url).href);
  try {
    assert.equal(status, 200);
    assert.match(contentType ?? '', /^text\/event-stream/);
    const parse = (data: string): Snapshot => JSON.parse(data) as Snapshot;
    const first = parse((await reader.next((event) => event.event === 'snapshot')).data);
    assert.equal(first.full, true);
    assert.ok(first.jobs.some((job) => job.job === 'accounts' && job.percent === 100));
    assert.ok(first.logs.length > 0, 'the first snapshot carries the log tail');

    stats.startJob('custom_emojis', 1);
    stats.rowsRead('custom_emojis', 1, 2);
    finish({ job: 'custom_emojis', key: 'custom_emojis/images/1/original/blobcat.png', outcome: 'copied', bytes: 4096 });
    finish({ job: 'custom_emojis', key: 'custom_emojis/images/1/static/blobcat.png', outcome: 'failed', bytes: 0, reason: 'socket hang up' });
    tail.append('custom_emojis: done\n');
    stats.finishJob('custom_emojis');

    const update = parse(
      (
        await reader.next((event) => {
          const snapshot = parse(event.data);
          return snapshot.jobs.some((job) => job.job === 'custom_emojis' && job.state === 'finished');
        })
      ).data,
    );
    assert.equal(update.full, false);
    const emojis = update.jobs.find((job) => job.job === 'custom_emojis')!;
    assert.deepEqual([emojis.copied, emojis.failed, emojis.bytes, emojis.percent], [1, 1, 4096, 100]);
    assert.equal(update.failures[0]?.key, 'custom_emojis/images/1/static/blobcat.png');
    // Later pushes carry only news: the new log line, not the tail again.
    const withLine = parse((await reader.next((event) => parse(event.data).logs.some((line) => line.line === 'custom_emojis: done'))).data);
    assert.equal(withLine.logs.length, 1);

    // Ticks sample the counters for the throughput charts.
    await reader.next((event) => parse(event.data).samples.some((sample) => sample.job === 'custom_emojis'));
  } finally {
    reader.close();
  }
});

test('GET /metrics: Prometheus text with the run counters, in its own registry', async () => {
  stats.startJob('site_uploads', 1);
  stats.rowsRead('site_uploads', 1, 3);
  stats.transferStarted('site_uploads');
  const timed: ObjectEvent = { job: 'site_uploads', key: 'site_uploads/files/1/original/logo.png', outcome: 'copied', bytes: 2048, durationMs: 300 };
  stats.transferStarted('site_uploads');
  stats.objectDone(timed);
  stats.throttled();
  stats.throttled();

  const response = await fetch(new URL('/metrics', dashboard.url));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const sample = (line: string): void => assert.ok(text.split('\n').includes(line), `missing "${line}" in\n${text}`);
  sample('# TYPE mastodon_s3_sync_objects_total counter');
  sample('mastodon_s3_sync_objects_total{job="accounts",outcome="copied"} 12');
  sample('mastodon_s3_sync_objects_total{job="accounts",outcome="skipped"} 1');
  sample('mastodon_s3_sync_objects_total{job="accounts",outcome="missing"} 1');
  sample('mastodon_s3_sync_objects_total{job="accounts",outcome="absent-style"} 1');
  sample('mastodon_s3_sync_objects_total{job="accounts",outcome="failed"} 1');
  sample('mastodon_s3_sync_objects_total{job="site_uploads",outcome="copied"} 1');
  sample('mastodon_s3_sync_bytes_total{job="accounts"} 3000');
  sample('mastodon_s3_sync_bytes_total{job="site_uploads"} 2048');
  sample('# TYPE mastodon_s3_sync_transfers_in_flight gauge');
  sample('mastodon_s3_sync_transfers_in_flight{job="site_uploads"} 1');
  sample('mastodon_s3_sync_transfers_in_flight{job="accounts"} 0');
  sample('mastodon_s3_sync_throttle_events_total 2');
  sample('# TYPE mastodon_s3_sync_object_seconds histogram');
  sample('mastodon_s3_sync_object_seconds_bucket{le="0.25",job="site_uploads",outcome="copied"} 0');
  sample('mastodon_s3_sync_object_seconds_bucket{le="0.5",job="site_uploads",outcome="copied"} 1');
  sample('mastodon_s3_sync_object_seconds_count{job="site_uploads",outcome="copied"} 1');
  assert.equal(await globalRegistry.getSingleMetric('mastodon_s3_sync_objects_total'), undefined, 'the global registry was used');
});

test('GET /: the page, with a strict content security policy', async () => {
  const response = await fetch(dashboard.url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  const html = await response.text();
  assert.match(html, /<title>mastodon-s3-sync · dashboard<\/title>/);
  assert.match(html, /new EventSource\(apiUrl\('\/api\/events'\)\)/);
});
