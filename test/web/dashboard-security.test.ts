import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { RunStats } from '../../src/stats/run-stats.js';
import { isLoopbackHost } from '../../src/web/access.js';
import { startDashboard, type Dashboard } from '../../src/web/dashboard-server.js';
import { runStatsSource } from '../../src/web/run-stats-source.js';
import { SseReader } from './sse-reader.js';

const token = 'correct-horse-battery-staple';
const routes = ['/', '/api/jobs', '/api/failures', '/api/logs?limit=5', '/metrics'];

/** A GET with a Host header of our choosing, which fetch() does not allow. */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

function newSource() {
  const stats = new RunStats();
  stats.startJob('accounts', 1);
  return runStatsSource(stats);
}

test('loopback names and addresses', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'dashboard.localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.org', '', '128.0.0.1', '::2']) assert.ok(!isLoopbackHost(host), host);
});

test('a non-loopback address without a token is refused before anything listens', async () => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    await assert.rejects(
      startDashboard({ source: newSource(), host, port: 0 }),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.code, 'ui.token-required');
        assert.match(error.message, /--ui-token/);
        assert.match(error.message, /\[ui\] token/);
        assert.ok(!error.message.includes('\n'), 'one line');
        return true;
      },
      host,
    );
  }
  await assert.rejects(startDashboard({ source: newSource(), host: '0.0.0.0', port: 0, token: '' }), { code: 'ui.token-required' });
});

test('a port already in use is a user error naming --ui-port', async () => {
  const first = await startDashboard({ source: newSource(), port: 0 });
  try {
    const port = Number(new URL(first.url).port);
    await assert.rejects(startDashboard({ source: newSource(), port }), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.code, 'ui.port-in-use');
      assert.match(error.message, /--ui-port/);
      return true;
    });
  } finally {
    await first.close();
  }
});

describe('with a token', () => {
  let dashboard: Dashboard;
  before(async () => {
    dashboard = await startDashboard({ source: newSource(), port: 0, token });
  });
  after(async () => {
    await dashboard.close();
  });

  test('every route answers 401 without the token or with a wrong one', async () => {
    for (const route of routes) {
      const url = new URL(route, dashboard.url);
      const bare = await fetch(url);
      assert.equal(bare.status, 401, route);
      assert.match(bare.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401, `${route} wrong bearer`);
      url.searchParams.set('token', `${token}x`);
      assert.equal((await fetch(url)).status, 401, `${route} wrong query token`);
    }
    const events = await SseReader.open(new URL('/api/events', dashboard.url).href);
    events.reader.close();
    assert.equal(events.status, 401, '/api/events');
  });

  test('every route answers 200 with the token as a Bearer header or as ?token=', async () => {
    for (const route of routes) {
      const url = new URL(route, dashboard.url);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200, `${route} bearer`);
      url.searchParams.set('token', token);
      assert.equal((await fetch(url)).status, 200, `${route} query`);
    }
    const byHeader = await SseReader.open(new URL('/api/events', dashboard.url).href, { authorization: `Bearer ${token}` });
    const byQuery = await SseReader.open(new URL(`/api/events?token=${token}`, dashboard.url).href);
    try {
      assert.equal(byHeader.status, 200);
      assert.equal(byQuery.status, 200);
      await byQuery.reader.next((event) => event.event === 'snapshot');
    } finally {
      byHeader.reader.close();
      byQuery.reader.close();
    }
  });

  test("a page opened with ?token= gets it back as a strict, HttpOnly cookie, which then admits what the page loads; a wrong cookie does not", async () => {
    const page = await fetch(new URL(`/?token=${token}`, dashboard.url));
    const [cookie] = page.headers.getSetCookie();
    assert.match(cookie ?? '', /; Path=\/; HttpOnly; SameSite=Strict$/);
    const sent = { cookie: cookie!.split(';')[0]! };
    assert.equal((await fetch(new URL('/api/jobs', dashboard.url), { headers: sent })).status, 200);
    assert.deepEqual((await fetch(new URL('/api/jobs', dashboard.url), { headers: { authorization: `Bearer ${token}` } })).headers.getSetCookie(), [], 'no cookie for API clients');
    assert.equal((await fetch(new URL('/api/jobs', dashboard.url), { headers: { cookie: 'mastodon-s3-sync-token=wrong' } })).status, 401);
  });

  test('the page never contains the token: it reads it from its own URL', async () => {
    const html = await (await fetch(new URL(`/?token=${token}`, dashboard.url))).text();
    assert.ok(!html.includes(token));
    assert.match(html, /URLSearchParams\(location\.search\)\.get\('token'\)/);
  });
});

test('a non-loopback address with a token listens and enforces it', async () => {
  const dashboard = await startDashboard({ source: newSource(), host: '0.0.0.0', port: 0, token });
  try {
    assert.match(dashboard.url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
    const local = new URL('/api/jobs', dashboard.url);
    local.hostname = '127.0.0.1';
    assert.equal((await fetch(local)).status, 401);
    assert.equal((await fetch(local, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  } finally {
    await dashboard.close();
  }
});

test('without a token, only loopback Host names are served (DNS rebinding)', async () => {
  const dashboard = await startDashboard({ source: newSource(), port: 0 });
  try {
    const url = new URL('/api/jobs', dashboard.url).href;
    const port = new URL(dashboard.url).port;
    assert.equal(await getWithHost(url, `127.0.0.1:${port}`), 200);
    assert.equal(await getWithHost(url, `localhost:${port}`), 200);
    assert.equal(await getWithHost(url, `[::1]:${port}`), 200);
    assert.equal(await getWithHost(url, `attacker.example:${port}`), 403);
    assert.equal(await getWithHost(url, 'attacker.example'), 403);
  } finally {
    await dashboard.close();
  }
});
