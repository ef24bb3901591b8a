// The folder layout is the architecture: each folder may import only the folders below it.
// A test rather than a dependency-cruiser config: the rule fits in a table, and it fails with the offending imports.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const srcRoot = fileURLToPath(new URL('../../src/', import.meta.url));

/** What each top-level module of src/ may import from the others (a folder, or a file at the root such as errors.ts). */
const allowed: Record<string, readonly string[]> = {
  errors: [],
  log: [],
  stats: [],
  'process-alive': ['errors'],
  config: ['errors'],
  mastodon: ['errors'],
  storage: ['errors', 'process-alive'],
  journal: ['errors', 'process-alive'],
  tunnel: ['errors', 'config'],
  transfer: ['errors', 'storage', 'stats'],
  // The queue is handed its work as a function; it knows the shape of events, not how objects move.
  queue: ['errors', 'log', 'stats'],
  // The dashboard reads a source of events; it does not know who produces them.
  web: ['errors', 'stats'],
  sync: ['errors', 'log', 'stats', 'mastodon', 'storage', 'journal', 'transfer', 'queue'],
  cli: ['errors', 'log', 'stats', 'config', 'mastodon', 'storage', 'journal', 'tunnel', 'transfer', 'queue', 'web', 'sync'],
};

async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

const moduleOf = (file: string): string => path.relative(srcRoot, file).split(path.sep)[0]!.replace(/\.ts$/, '');

test('each folder of src/ imports only the folders below it', async () => {
  const violations: string[] = [];
  const edges = new Set<string>();
  for (const file of await sourceFiles(srcRoot)) {
    const from = moduleOf(file);
    assert.ok(from in allowed, `src/${from} is not in the layer table of this test: place it`);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const to = moduleOf(path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts')));
      if (to === from) continue;
      edges.add(`${from} -> ${to}`);
      if (!allowed[from]!.includes(to)) violations.push(`${path.relative(srcRoot, file)} imports ${match[1]} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(violations, []);
  // The table is not vacuous: the scan saw the layers' real imports.
  for (const edge of ['cli -> sync', 'sync -> transfer', 'transfer -> storage', 'sync -> mastodon']) assert.ok(edges.has(edge), `no ${edge} import found`);
});
