/** `npm run demo`: the tool at work without a Mastodon server. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { s3rverStorageOptions, startLocalS3, type LocalS3 } from '../local-s3/local-s3.js';
import { toolArguments } from '../tool-arguments.js';
import { createInstanceDatabase, generateInstance, landmarks, parseScale, planSummary, serverSettings, type InstanceDatabase } from '../synthetic-instance/index.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin', 'mastodon-s3-sync.js');

const usage = `
npm run demo -- [--scale 1000] [--seed demo] [--concurrency 8] [--ui-port 5555] [--no-ui]

One command that shows the tool working without a Mastodon server: a throwaway database on the
local PostgreSQL (127.0.0.1:5432; scripts/ensure-services.sh starts or installs it), two local S3
endpoints (s3rver), a generated instance, and a full sync with the dashboard. Ctrl-C stops
everything and removes it all: the database, the S3 data, the temp directory.
`;

const flags = toolArguments('demo', usage, {
  options: {
    scale: { type: 'string', default: '1000' },
    seed: { type: 'string', default: 'demo' },
    concurrency: { type: 'string', default: '8' },
    'ui-port': { type: 'string', default: '5555' },
    'no-ui': { type: 'boolean', default: false },
  },
});

const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

// --- clean-up ---------------------------------------------------------------------------------

let directory: string | undefined;
let database: InstanceDatabase | undefined;
const servers: LocalS3[] = [];
let cli: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    say('\ndemo: cleaning up…');
    if (cli !== undefined && cli.exitCode === null && cli.signalCode === null) {
      const exited = new Promise((resolve) => cli!.once('exit', resolve));
      cli.kill('SIGINT');
      const killer = setTimeout(() => cli?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
    if (database !== undefined) await database.drop().catch((error: unknown) => say(`demo: could not drop ${database!.name}: ${String(error)}`));
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
    say(`demo: removed the database${database !== undefined ? ` ${database.name}` : ''}, both S3 servers and ${directory ?? 'the temp directory'}. Bye.`);
  })();
  return cleaning;
}

let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) {
      cli?.kill('SIGKILL');
      return;
    }
    void cleanup().then(() => process.exit(0));
  });
}

// --- preflight --------------------------------------------------------------------------------

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ ...serverSettings(), database: 'postgres', connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  say(bold('mastodon-s3-sync demo'));
  if (!(await postgresAnswers())) {
    say('demo: PostgreSQL does not answer on 127.0.0.1:5432; running scripts/ensure-services.sh (may install packages)');
    const ensured = spawnSync('bash', ['scripts/ensure-services.sh'], { cwd: root, stdio: 'inherit' });
    if (ensured.status !== 0) throw new Error('scripts/ensure-services.sh failed: start PostgreSQL on 127.0.0.1:5432 (or set PGHOST/PGPORT/PGUSER/PGPASSWORD)');
  }
  say('demo: building the CLI (npm run build)');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) say('demo: warning: the build reported errors; running whatever dist/ holds');

  // --- the throwaway world ---
  directory = await mkdtemp(path.join(tmpdir(), 'mss-demo-'));
  const [source, destination, db] = await Promise.all([
    startLocalS3({ buckets: ['mastodon-media'], directory: path.join(directory, 's3-source') }),
    startLocalS3({ buckets: ['new-media'], directory: path.join(directory, 's3-destination') }),
    createInstanceDatabase({ name: `mss_demo_${randomBytes(4).toString('hex')}` }),
  ]);
  servers.push(source, destination);
  database = db;

  const scale = parseScale(flags.scale);
  say(`demo: generating a Mastodon instance with about ${scale} stored objects (seed "${flags.seed}")…`);
  const storage = new S3Storage(s3rverStorageOptions(source.endpoint, 'mastodon-media', { maxSockets: 16 }));
  const { plan } = await generateInstance({ scale, seed: flags.seed, anomalies: true, client: db.client, storage, concurrency: 16 });
  await storage.close();
  const summary = planSummary(plan);
  const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
  const allRows = sum(summary.rows);
  const rowsWithFiles = sum(plan.rowsWithFiles);

  const s3 = (server: LocalS3, bucket: string): string =>
    `type = s3\nendpoint = ${server.endpoint}\nregion = us-east-1\nbucket = ${bucket}\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\n`;
  const config = path.join(directory, 'config.ini');
  await writeFile(config, `[database]\nurl = ${db.url}\n\n[source]\n${s3(source, 'mastodon-media')}\n[destination]\n${s3(destination, 'new-media')}\n[sync]\nconcurrency = ${Number(flags.concurrency)}\n`);

  const ui = !flags['no-ui'];
  const dashboard = `http://127.0.0.1:${flags['ui-port']}`;
  const avatar = `cache/accounts/avatars/109/283/929/999/999/999/original/${landmarks.remoteAccount.avatar}`;
  const guide = [
    '',
    bold('Where to look'),
    ...(ui ? [`  dashboard       ${dashboard}   (live while the sync runs, and until Ctrl-C)`] : []),
    `  database        ${db.url}`,
    `  source S3       ${source.endpoint}/mastodon-media   (s3rver; key S3RVER, any secret)`,
    `  destination S3  ${destination.endpoint}/new-media`,
    `  config file     ${config}`,
    '',
    bold('Browse the destination'),
    `  curl -s '${destination.endpoint}/new-media?list-type=2&max-keys=25'          # the first keys, as S3 XML`,
    `  curl -s -o avatar.png '${destination.endpoint}/new-media/${avatar}'   # a real PNG: open it`,
    `  node bin/mastodon-s3-sync.js keys --config ${config} | head          # what the database references`,
    `  node bin/mastodon-s3-sync.js sync --config ${config}                 # run again: nothing left to copy`,
    '',
    bold('What the demo planted'),
    `  ${summary.referencedKeys} referenced objects (${(summary.referencedBytes / 1e6).toFixed(0)} MB) in ${rowsWithFiles} rows of 7 tables (${allRows - rowsWithFiles} more rows have no file);`,
    `  ${summary.orphans} orphans in the source that no row references (never copied);`,
    `  ${plan.misplaced.length} avatars left at their pre-3.1.4 key (found under the other cache/ variant, written where Mastodon looks);`,
    '  1 original lost from the source (reported as missing) and 3 styles Mastodon never made (reported as absent).',
    '',
    'Ctrl-C stops the servers and deletes the database, the S3 data and the temp directory.',
  ].join('\n');

  say(`demo: starting the sync${ui ? ` with the dashboard at ${bold(dashboard)}` : ''}`);
  const args = [bin, 'sync', '--config', config, ...(ui ? ['--ui', '--ui-port', flags['ui-port'], '--ui-linger'] : [])];
  // stderr (progress bar, log) goes straight to the terminal; stdout (the summary) passes through us,
  // so that the guide follows it.
  cli = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let guided = false;
  cli.stdout?.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (!guided) {
      guided = true;
      setTimeout(() => say(guide), 100);
    }
  });
  const code = await new Promise<number | null>((resolve) => cli!.once('exit', (exitCode) => resolve(exitCode)));
  if (cleaning !== undefined) return;
  if (!guided) say(guide);
  say(`\ndemo: the sync exited with code ${code}; the servers and the database stay up until Ctrl-C.`);
  await new Promise(() => undefined);
}

main().catch(async (error: unknown) => {
  say(`demo: failed: ${error instanceof Error ? error.message : String(error)}`);
  await cleanup();
  process.exit(1);
});
