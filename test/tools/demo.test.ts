/**
 * `npm run demo` end to end, as a newcomer runs it: the guide it prints must be true (the dashboard
 * answers, the destination serves the avatar it names as a real PNG), and Ctrl-C must remove
 * everything it made.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serverSettings } from '../helpers/postgres.js';
import { freePort } from '../helpers/sshd.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo', () => {
  let demo: ChildProcessByStdio<null, Readable, Readable>;
  let stdout = '';
  let stderr = '';
  let uiPort: number;
  let exit: Promise<number | null>;

  const printed = (pattern: RegExp, stream: () => string, timeoutMs = 120_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`demo never printed ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
      const check = (): void => {
        const match = stream().match(pattern);
        if (match === null) return;
        clearTimeout(deadline);
        demo.stdout.off('data', check);
        demo.stderr.off('data', check);
        resolve(match);
      };
      demo.stdout.on('data', check);
      demo.stderr.on('data', check);
      check();
    });

  before(async () => {
    uiPort = await freePort();
    demo = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tools/demo/demo.ts'), '--scale', '200', '--ui-port', String(uiPort)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    exit = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
    await Promise.all([printed(/the dashboard stays at/, () => stderr), printed(/^Ctrl-C stops the servers/m, () => stdout)]);
  });

  after(async () => {
    if (demo.exitCode !== null) return;
    // SIGINT, not SIGKILL: the demo's clean-up also stops the sync it started, which holds our stderr pipe.
    demo.kill('SIGINT');
    const killer = setTimeout(() => demo.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  });

  test('the sync reports what the demo planted: every object copied, the lost original missing, the never-made styles absent', () => {
    const total = stdout.split('\n').find((line) => line.startsWith('total'));
    assert.ok(total !== undefined, `no summary table in:\n${stdout}`);
    const [rows, keys, copied, skipped, missing, absent, failed] = total.split(/\s+/).slice(1, 8).map(Number);
    assert.ok(rows! > 50, total);
    assert.equal(copied, keys! - missing! - absent!, total);
    assert.deepEqual([skipped, missing, absent, failed], [0, 1, 3, 0], total);
    const planted = stdout.match(/(\d+) referenced objects \(\d+ MB\) in (\d+) rows of 7 tables/);
    assert.ok(planted !== null, stdout);
    assert.deepEqual([Number(planted[1]), Number(planted[2])], [keys, rows], 'the guide and the summary count the same objects and rows');
  });

  test('the dashboard it names answers', async () => {
    assert.match(stdout, new RegExp(`dashboard\\s+http://127\\.0\\.0\\.1:${uiPort}`));
    const page = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });

  test('the avatar the guide names is a real PNG at the destination', async () => {
    const [, url] = stdout.match(/curl -s -o avatar\.png '([^']+)'/) ?? [];
    assert.ok(url !== undefined, stdout);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    const body = Buffer.from(await response.arrayBuffer());
    assert.deepEqual([...body.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  test('Ctrl-C stops it with exit 0 and removes the database and the temp directory', async () => {
    const database = stdout.match(/database\s+postgres:\/\/\S+\/(mss_demo_[0-9a-f]+)/)?.[1];
    const config = stdout.match(/config file\s+(\S+)/)?.[1];
    assert.ok(database !== undefined && config !== undefined, stdout);
    demo.kill('SIGINT');
    assert.equal(await exit, 0, stderr);
    assert.match(stdout, /Bye\.\n$/);
    await assert.rejects(access(path.dirname(config)), { code: 'ENOENT' });
    const client = new pg.Client({ ...serverSettings(), database: 'postgres' });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      assert.equal(rowCount, 0);
    } finally {
      await client.end();
    }
  });
});
