import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { RunStats } from '../../src/stats/run-stats.js';
import { startDashboard } from '../../src/web/dashboard-server.js';
import { LogTail } from '../../src/web/log-tail.js';
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

test('a page that stops reading its event stream is dropped instead of having the server buffer for it without end', { timeout: 60_000 }, async () => {
  const logTail = new LogTail();
  const dashboard = await startDashboard({ source: runStatsSource(new RunStats()), logTail, port: 0, tickMs: 20 });
  // A busy log: every push carries about 400 KB of new lines.
  const writer = setInterval(() => {
    for (let line = 0; line < 100; line += 1) logTail.append(`${'x'.repeat(3990)}\n`);
  }, 20);
  const { port } = new URL(dashboard.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  try {
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    // A frozen tab: the connection stays open, nothing is read.
    socket.pause();
    socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    clearInterval(writer);
    // The tab wakes up: it gets what was sent before the server gave up on it, then the end of the stream.
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    const outcome = await Promise.race([ended.then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 15_000, 'still open'))]);
    assert.equal(outcome, 'closed', `the server kept the stream open (${received} bytes received)`);
    assert.ok(received < 16 * 1024 * 1024, `${received} bytes were buffered for it`);
  } finally {
    clearInterval(writer);
    socket.destroy();
    await dashboard.close();
  }
});
