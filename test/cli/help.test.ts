import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';

describe('--help says what the options do', () => {
  test('-v promises the absent derived styles it logs, not every object (a copied object gets no line)', async () => {
    const result = await runCli(['sync', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ {2}-v, --verbose {2,}also log derived styles absent from the source$/m);
  });
});
