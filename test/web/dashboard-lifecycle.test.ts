import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunStats } from '../../src/stats/run-stats.js';
import { startDashboard } from '../../src/web/dashboard-server.js';
import { runStatsSource } from '../../src/web/run-stats-source.js';
import { SseReader } from './sse-reader.js';

test('mountQueueBoard adds routes behind the same token (the bull-board mount point)', async () => {
  const token = 'queue-token';
  const dashboard = await startDashboard({
    source: runStatsSource(new RunStats()),
    port: 0,
    token,
    mountQueueBoard: async (app) => {
      app.get('/queues', async () => ({ queues: ['copy'] }));
    },
  });
  try {
    const url = new URL('/queues', dashboard.url);
    assert.equal((await fetch(url)).status, 401);
    const answer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { queues: ['copy'] });
  } finally {
    await dashboard.close();
  }
});

test('close() ends the event streams of open pages instead of waiting for them', async () => {
  const stats = new RunStats();
  const source = runStatsSource(stats);
  const dashboard = await startDashboard({ source, port: 0 });
  const { reader } = await SseReader.open(new URL('/api/events', dashboard.url).href);
  await reader.next((event) => event.event === 'snapshot');
  const started = Date.now();
  await dashboard.close();
  assert.ok(Date.now() - started < 2000, `close() took ${Date.now() - started} ms`);
  reader.close();
  // Nothing of the dashboard still listens to the stats.
  assert.equal(stats.listenerCount('job'), 0);
  source.detach();
  assert.equal(stats.listenerCount('object'), 0);
});

test('a mount that throws leaves no server behind and nothing subscribed', async () => {
  const stats = new RunStats();
  const source = runStatsSource(stats);
  await assert.rejects(
    startDashboard({
      source,
      port: 0,
      mountQueueBoard: async () => {
        throw new Error('bull-board failed');
      },
    }),
    /bull-board failed/,
  );
  assert.equal(stats.listenerCount('job'), 0);
  assert.equal(stats.listenerCount('object'), 1, 'only the failure recorder of the source itself');
});
