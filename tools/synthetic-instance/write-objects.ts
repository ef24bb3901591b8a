import type { Storage } from '../../src/storage/storage.js';
import { objectBody } from './content.js';
import type { PlannedObject } from './plan.js';

/** Mastodon's Cache-Control on every object since 2019. */
export const mastodonCacheControl = 'public, max-age=315576000, immutable';

export interface WriteProgress {
  objects: number;
  bytes: number;
}

/**
 * Writes the objects into `storage` through the project's own back end (S3 or a directory),
 * `concurrency` at a time, each body streamed from the deterministic generator: a 1 GB
 * object never sits in memory.
 */
export async function writeObjects(
  storage: Storage,
  objects: readonly PlannedObject[],
  options: { seed: string; concurrency?: number; onProgress?: (progress: WriteProgress) => void },
): Promise<WriteProgress> {
  const progress: WriteProgress = { objects: 0, bytes: 0 };
  // Big objects first: the long uploads overlap with the many small ones instead of trailing at the end.
  const queue = [...objects].sort((a, b) => b.size - a.size);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const object = queue[next++];
      if (object === undefined) return;
      await withRetries(object.key, () =>
        storage.write(object.key, objectBody(object.key, object.size, options.seed), {
          contentType: object.contentType,
          cacheControl: mastodonCacheControl,
          acl: object.acl,
          size: object.size,
        }),
      );
      progress.objects += 1;
      progress.bytes += object.size;
      options.onProgress?.(progress);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
  return progress;
}

/** The storages never retry (the engine does); the generator retries on its own, the body is regenerated each time. */
async function withRetries(key: string, write: () => Promise<void>, attempts = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt >= attempts) throw new Error(`writing ${key} failed ${attempts} times`, { cause: error });
      if (process.env['SYNTHETIC_DEBUG']) process.stderr.write(`retry ${key}: ${String(error)}\n`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
