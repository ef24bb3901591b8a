import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import { configSchema } from '../../src/config/schema.js';

const samplePath = new URL('../../private/config.sample.ini', import.meta.url);

/** The keys a section's schema accepts: an object's, or every variant's of a union (s3 and fs storages). */
function keysOf(schema: z.ZodType): string[] {
  const def = schema.def as { type: string; shape?: Record<string, z.ZodType>; options?: z.ZodType[]; innerType?: z.ZodType };
  if (def.shape !== undefined) return Object.keys(def.shape);
  if (def.options !== undefined) return [...new Set(def.options.flatMap(keysOf))];
  if (def.innerType !== undefined) return keysOf(def.innerType);
  throw new Error(`no keys in a ${def.type} schema`);
}

/** Section → keys the sample mentions, set or commented out (`; key = ...`), under `[section]` or `; [section]`. */
function documentedKeys(sample: string): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of sample.split('\n')) {
    const header = /^;?\s*\[(\w+)\]/.exec(line);
    if (header !== null) {
      current = sections.get(header[1]!) ?? new Set();
      sections.set(header[1]!, current);
      continue;
    }
    const key = /^;?\s*(\w+)\s*=/.exec(line);
    if (key !== null) current?.add(key[1]!);
  }
  return sections;
}

describe('private/config.sample.ini', () => {
  test('documents every section and key the config accepts (its errors send the admin there)', async () => {
    const documented = documentedKeys(await readFile(samplePath, 'utf8'));
    const undocumented = Object.entries(configSchema.shape).flatMap(([section, schema]) =>
      keysOf(schema as z.ZodType)
        .filter((key) => documented.get(section)?.has(key) !== true)
        .map((key) => `[${section}] ${key}`),
    );
    assert.deepEqual(undocumented, []);
  });
});
