/**
 * The synthetic Mastodon instance generator, used by the bench, the demo and the tests:
 * plan (pure, seeded) → rows into PostgreSQL → objects into a source storage.
 */
import type pg from 'pg';
import type { Storage } from '../../src/storage/storage.js';
import { insertPlanRows } from './database.js';
import { planInstance, type InstancePlan, type PlanOptions } from './plan.js';
import { writeObjects, type WriteProgress } from './write-objects.js';

export { contentTypeFor, objectBody, objectMd5 } from './content.js';
export { createInstanceDatabase, insertBulkMedia, insertPlanRows, insertRows, serverSettings, type InstanceDatabase } from './database.js';
export { landmarks, parseScale, planInstance, planSummary, sizeProfile, tableNames, type InstancePlan, type PlanOptions, type PlannedObject, type PlanSummary } from './plan.js';
export { mastodonCacheControl, writeObjects, type WriteProgress } from './write-objects.js';

export interface GenerateOptions extends PlanOptions {
  /** A writable connection to a database holding the Mastodon schema. */
  client: pg.Client;
  /** Where the objects go (the instance's current storage). */
  storage: Storage;
  /** Uploads in flight. @defaultValue 16 */
  concurrency?: number;
  onProgress?: (progress: WriteProgress) => void;
}

export interface GenerateResult {
  plan: InstancePlan;
  rowsSeconds: number;
  objectsSeconds: number;
}

export async function generateInstance(options: GenerateOptions): Promise<GenerateResult> {
  const plan = planInstance({ scale: options.scale, seed: options.seed, anomalies: options.anomalies });
  const rowsStarted = performance.now();
  await insertPlanRows(options.client, plan);
  const objectsStarted = performance.now();
  await writeObjects(options.storage, plan.objects, {
    seed: options.seed,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  });
  return { plan, rowsSeconds: (objectsStarted - rowsStarted) / 1000, objectsSeconds: (performance.now() - objectsStarted) / 1000 };
}
