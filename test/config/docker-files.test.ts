/**
 * No Docker engine runs in CI: these check the Dockerfile and docker-compose.yml against the CLI
 * they start, so that a renamed command or file breaks a test instead of a deployment.
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (file: string): Promise<string> => readFile(new URL(file, root), 'utf8');

const cliSubcommands = ['sync', 'keys', 'enqueue', 'worker', 'ui'];

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  volumes?: string[];
}

async function composeServices(): Promise<Record<string, ComposeService>> {
  // Compose resolves `<<` merge keys (YAML 1.1); the shared app settings use them.
  const document = parse(await read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  return document.services;
}

const words = (command: string | string[] | undefined): string[] => (typeof command === 'string' ? command.trim().split(/\s+/) : (command ?? []));

/** Dockerfile instructions as [keyword, argument] pairs (comments and blank lines dropped). */
async function dockerfileInstructions(): Promise<Array<[string, string]>> {
  const lines = (await read('Dockerfile')).split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  return lines.map((line) => {
    const [keyword = '', ...rest] = line.trim().split(/\s+/);
    return [keyword.toUpperCase(), rest.join(' ')];
  });
}

test('docker-compose.yml has redis, worker, dashboard and a one-shot enqueue under the jobs profile', async () => {
  const services = await composeServices();
  assert.deepEqual(Object.keys(services).sort(), ['dashboard', 'enqueue', 'redis', 'worker']);
  assert.equal(services['redis']?.image, 'redis:7');
  assert.deepEqual(words(services['worker']?.command), ['worker', '--concurrency', '${CONCURRENCY:-16}']);
  assert.deepEqual(words(services['dashboard']?.command), ['ui', '--ui-host', '0.0.0.0', '--ui-port', '5555']);
  assert.deepEqual(services['dashboard']?.ports, ['5555:5555']);
  assert.ok('MASTODON_S3_SYNC_UI_TOKEN' in (services['dashboard']?.environment ?? {}));
  assert.deepEqual(words(services['enqueue']?.command), ['enqueue']);
  assert.deepEqual(services['enqueue']?.profiles, ['jobs']);
});

test('every app service runs a real CLI subcommand, reaches the queue and gets the config', async () => {
  const services = await composeServices();
  for (const [name, service] of Object.entries(services)) {
    if (name === 'redis') continue;
    const [subcommand] = words(service.command);
    assert.ok(subcommand !== undefined && cliSubcommands.includes(subcommand), `${name}: "${subcommand}" is not one of ${cliSubcommands.join(', ')}`);
    assert.equal(service.environment?.['MASTODON_S3_SYNC_QUEUE_URL'], 'redis://redis:6379', name);
    assert.ok(service.build !== undefined, `${name} builds this repository's image`);
    assert.ok(service.volumes?.includes('./private:/app/private:ro'), `${name} mounts the config`);
  }
});

test('the Dockerfile is multi-stage on node:20-bookworm-slim and its ENTRYPOINT runs bin/mastodon-s3-sync.js', async () => {
  const instructions = await dockerfileInstructions();
  const stages = instructions.filter(([keyword]) => keyword === 'FROM').map(([, argument]) => argument);
  assert.ok(stages.length >= 2, 'a build stage and a run stage');
  for (const stage of stages) assert.match(stage, /^node:20-bookworm-slim\b/);
  const entrypoints = instructions.filter(([keyword]) => keyword === 'ENTRYPOINT');
  const [, entrypoint = ''] = entrypoints.at(-1) ?? [];
  assert.deepEqual(JSON.parse(entrypoint), ['node', 'bin/mastodon-s3-sync.js']);
  assert.ok(instructions.some(([keyword, argument]) => keyword === 'RUN' && argument.includes('npm ci')));
  assert.ok(instructions.some(([keyword, argument]) => keyword === 'RUN' && argument.includes('npm prune --omit=dev')));
});

test('what the Dockerfile copies exists, and .dockerignore keeps secrets and builds out', async () => {
  const instructions = await dockerfileInstructions();
  const copied = instructions
    .filter(([keyword, argument]) => keyword === 'COPY' && !argument.startsWith('--from'))
    .flatMap(([, argument]) => argument.split(/\s+/).slice(0, -1));
  assert.ok(copied.length > 0);
  for (const file of copied) await access(new URL(file, root));
  const ignored = (await read('.dockerignore')).split('\n').map((line) => line.trim());
  for (const entry of ['node_modules', 'dist', 'private', '.env', '.git']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
});
