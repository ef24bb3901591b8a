import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serverSettings } from '../helpers/postgres.js';
import { freePort } from '../helpers/sshd.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ ...serverSettings(), database: 'postgres' });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

test('the npm run tools print their usage for --help, and a mistyped option is one line and exit 2 before anything starts', async () => {
  const tools = [
    ['generate', 'tools/synthetic-instance/cli.ts'],
    ['local-s3', 'tools/local-s3/cli.ts'],
    ['demo', 'tools/demo/demo.ts'],
    ['bench', 'bench/run.ts'],
  ] as const;
  for (const [tool, script] of tools) {
    const help = await run(script, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.ok(help.stdout.startsWith(`npm run ${tool} -- [`), `${tool} --help printed: ${help.stdout}`);
    const typo = await run(script, ['--sclae', '1k']);
    assert.equal(typo.code, 2, typo.stderr);
    assert.equal(typo.stderr, `${tool}: Unknown option '--sclae' — npm run ${tool} -- --help lists the options\n`);
    assert.equal(typo.stdout, '');
  }
});

test('generate with no S3 endpoint listening: one line naming the endpoint and local-s3, exit 2, no database made', async () => {
  const port = await freePort();
  const name = `mss_gen_fail_${process.pid}`;
  const result = await run('tools/synthetic-instance/cli.ts', ['--create-database', name, '--s3-endpoint', `http://127.0.0.1:${port}`, '--bucket', 'media', '--scale', '1k']);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr.trim(),
    `generate: cannot reach http://127.0.0.1:${port} for bucket "media" (ECONNREFUSED): check "endpoint" and that the server is up and reachable from here (npm run local-s3 starts a local S3 endpoint)`,
  );
  assert.equal(await databaseExists(name), false);
});

test('local-s3 serves the buckets it names, prints its settings, and Ctrl-C removes its objects', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tools/local-s3/cli.ts'), '--port', String(port), '--bucket', 'media', '--bucket', 'new-media'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  // A failed assertion must not leave the server running and the test process waiting on it.
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  while (!stdout.includes('Ctrl-C stops it.')) await once(child.stdout, 'data');
  const directory = /objects in (\S+)/.exec(stdout)?.[1];
  assert.match(stdout, new RegExp(`^local-s3: http://127\\.0\\.0\\.1:${port}, buckets media, new-media, objects in /`));
  assert.ok(stdout.includes(`endpoint = http://127.0.0.1:${port}, region = us-east-1, access_key_id = S3RVER, secret_access_key = S3RVER`));
  const listing = await fetch(`http://127.0.0.1:${port}/`);
  const buckets = [...(await listing.text()).matchAll(/<Name>([^<]+)<\/Name>/g)].map((match) => match[1]);
  assert.deepEqual(buckets.sort(), ['media', 'new-media']);
  assert.ok(directory !== undefined && (await stat(path.join(directory, 'media'))).isDirectory());
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  await assert.rejects(stat(directory), { code: 'ENOENT' });
});

test('generate into a directory it makes, then refuses to fill the same database twice', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'mss-gen-'));
  const name = `mss_gen_twice_${process.pid}`;
  try {
    const first = await run('tools/synthetic-instance/cli.ts', ['--create-database', name, '--fs', path.join(directory, 'public-system'), '--scale', '1k']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /generate: \d+ referenced keys/);
    const { host, port, user } = serverSettings();
    const again = await run('tools/synthetic-instance/cli.ts', ['--database-url', `postgres://${user}@${host}:${port}/${name}`, '--fs', path.join(directory, 'again'), '--scale', '1k']);
    assert.equal(again.code, 2);
    assert.equal(again.stderr.trim(), 'generate: the database already holds accounts: generate into an empty one (--create-database NAME makes one)');
  } finally {
    const client = new pg.Client({ ...serverSettings(), database: 'postgres' });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
    await rm(directory, { recursive: true, force: true });
  }
});
