import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { runCli } from '../helpers/cli.js';

/** The long flags `<command> --help` lists under Options. */
function optionsListed(help: string): string[] {
  const options = help.slice(help.indexOf('\nOptions:\n'));
  return [...options.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]!).sort();
}

describe('--help says what the options do', () => {
  test('-v promises the absent derived styles it logs, not every object (a copied object gets no line)', async () => {
    const result = await runCli(['sync', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ {2}-v, --verbose {2,}also log derived styles absent from the source$/m);
  });

  test('--queue and --ui-token name the variables that set them (a token on the command line shows in ps)', async () => {
    const worker = await runCli(['worker', '--help']);
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout.replace(/\s+/g, ' '), /--queue <url> the queue's Redis, e\.g\. redis:\/\/10\.0\.0\.1:6379 \(default: \[queue\] url or MASTODON_S3_SYNC_QUEUE_URL\)/);
    const sync = await runCli(['sync', '--help']);
    assert.match(sync.stdout.replace(/\s+/g, ' '), /--ui-token <token> require this bearer token for the dashboard \(default: \[ui\] token or MASTODON_S3_SYNC_UI_TOKEN, which ps does not show\)/);
  });
});

test('--version prints the version package.json gives, and exits 0', async () => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const result = await runCli([flag]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${version}\n`);
  }
});

describe('each command offers exactly the options that do something for it', () => {
  // -v shows only derived styles absent from the source, which only copying meets (sync, worker);
  // --mastodon-env gives [database] and [source], which status and ui never read; keys prints
  // bare keys and logs nothing, so --json would change nothing.
  const offered: Record<string, string[]> = {
    sync: ['--config', '--mastodon-env', '--json', '--verbose', '--limit', '--dev', '--dry-run', '--concurrency', '--ui', '--ui-host', '--ui-port', '--ui-token', '--ui-linger', '--state', '--no-state', '--inventory', '--no-inventory', '--retry-failed', '--since', '--local-only', '--grace-period'],
    keys: ['--config', '--mastodon-env', '--limit'],
    report: ['--config', '--mastodon-env', '--json', '--state', '--format', '--output', '--include-absent'],
    verify: ['--config', '--mastodon-env', '--json', '--limit', '--local-only', '--concurrency'],
    orphans: ['--config', '--mastodon-env', '--json', '--in', '--format', '--output', '--unrecognized'],
    enqueue: ['--config', '--mastodon-env', '--json', '--queue', '--limit', '--from-start', '--retry-failed', '--local-only'],
    worker: ['--config', '--mastodon-env', '--json', '--verbose', '--queue', '--concurrency', '--grace-period'],
    status: ['--config', '--json', '--queue', '--failures'],
    ui: ['--config', '--json', '--queue', '--ui-host', '--ui-port', '--ui-token'],
  };

  for (const [command, options] of Object.entries(offered)) {
    test(`${command} --help lists ${options.length} options and --help`, async () => {
      const result = await runCli([command, '--help']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(optionsListed(result.stdout), [...options, '--help'].sort());
    });
  }

  for (const [command, flag, ...rest] of [
    ['keys', '-v'],
    ['keys', '--json'],
    ['report', '--verbose'],
    ['verify', '-v'],
    ['orphans', '-v', '--in', 'source'],
    ['enqueue', '-v'],
    ['status', '-v'],
    ['status', '--mastodon-env'],
    ['ui', '--verbose'],
  ] as const) {
    test(`${command} ${flag} is an unknown option, before any config is read`, async () => {
      const result = await runCli([command, flag, ...rest, '--config', '/nonexistent/config.ini']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`unknown option '${flag}'`));
      assert.doesNotMatch(result.stderr, /config/);
    });
  }
});
