import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';

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
