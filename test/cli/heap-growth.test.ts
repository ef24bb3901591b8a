import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { heapGrowthFlag } from '../../src/cli/heap-growth.js';

test('copying commands cap V8 heap growth at 150%', () => {
  assert.equal(heapGrowthFlag(['--enable-source-maps']), '--heap-growing-percent=150');
});

test("an admin's own --heap-growing-percent on the command line wins", () => {
  assert.equal(heapGrowthFlag(['--heap-growing-percent=300']), undefined);
  assert.equal(heapGrowthFlag(['--heap_growing_percent=80']), undefined);
});

test('this Node.js knows the flag: setting it prints nothing (V8 writes "unrecognized flag" to stderr otherwise)', () => {
  const module = pathToFileURL(new URL('../../src/cli/heap-growth.ts', import.meta.url).pathname).href;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `(await import(${JSON.stringify(module)})).boundHeapGrowthForCopying(); console.log('set')`], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'set');
  assert.equal(run.stderr, '');
});
