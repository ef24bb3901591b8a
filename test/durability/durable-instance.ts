/**
 * A test instance whose storages sit behind recording, fault-injecting proxies,
 * seeded with many media rows of random bytes, and helpers to compare the
 * destination with what it must hold, byte for byte.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { insertMediaAttachment } from '../helpers/postgres.js';
import { isCheckListing, startS3Proxy, type Fault, type FaultPlan, type RecordedRequest, type S3Proxy } from '../helpers/s3-proxy.js';
import { createTestInstance, destinationBucket, s3Section, sourceBucket, type TestInstance } from '../helpers/test-instance.js';

export interface DurableInstance extends TestInstance {
  sourceProxy: S3Proxy;
  destinationProxy: S3Proxy;
  /** Every key the database references and the source holds, with its bytes. */
  expected: Map<string, Buffer>;
  /** A [source] section that goes through the source's proxy. */
  proxiedSource(): Record<string, string>;
  /** A [destination] section that goes through the destination's proxy, under `prefix` when given. */
  proxiedDestination(prefix?: string): Record<string, string>;
  /** A config whose storages go through the proxies. */
  proxiedConfig(sync?: Record<string, string | number | boolean>, name?: string): Promise<string>;
  /** Destination keys equal the expected set, and every object's bytes are identical. */
  assertDestinationComplete(): Promise<void>;
}

export interface SeedOptions {
  /** media_attachments rows (JPEG: an original and a small each). */
  rows: number;
  /** Bytes per object. @defaultValue 4096 */
  size?: number;
  /** Extra large objects (an original each, PNG) of this many bytes, to go multipart. */
  large?: number[];
}

export async function createDurableInstance(seed: SeedOptions): Promise<DurableInstance> {
  const instance = await createTestInstance();
  const [sourceProxy, destinationProxy] = await Promise.all([startS3Proxy(instance.sourceServer.endpoint), startS3Proxy(instance.destinationServer.endpoint)]);
  const expected = new Map<string, Buffer>();
  const db = instance.database.client;
  const puts: Promise<void>[] = [];
  const put = (key: string, body: Buffer, contentType: string): void => {
    expected.set(key, body);
    puts.push(instance.seed(key, body, { contentType }));
  };
  for (let row = 0; row < seed.rows; row += 1) {
    const id = String(200_000 + row);
    const name = `${randomBytes(8).toString('hex')}.jpeg`;
    await insertMediaAttachment(db, { id, file_file_name: name, file_content_type: 'image/jpeg', type: 0 });
    const partition = `000/${id.slice(0, 3)}/${id.slice(3)}`;
    put(`media_attachments/files/${partition}/original/${name}`, randomBytes(seed.size ?? 4096), 'image/jpeg');
    put(`media_attachments/files/${partition}/small/${name}`, randomBytes(Math.ceil((seed.size ?? 4096) / 4)), 'image/jpeg');
    if (puts.length >= 64) await Promise.all(puts.splice(0));
  }
  for (const [index, size] of (seed.large ?? []).entries()) {
    const id = String(900_000 + index);
    const name = `${randomBytes(8).toString('hex')}.mp3`;
    await insertMediaAttachment(db, { id, file_file_name: name, file_content_type: 'audio/mpeg', type: 4 });
    put(`media_attachments/files/000/${id.slice(0, 3)}/${id.slice(3)}/original/${name}`, randomBytes(size), 'audio/mpeg');
  }
  await Promise.all(puts);

  return {
    ...instance,
    sourceProxy,
    destinationProxy,
    expected,
    proxiedSource: () => s3Section(sourceProxy.endpoint, sourceBucket),
    proxiedDestination: (prefix) => ({ ...s3Section(destinationProxy.endpoint, destinationBucket), ...(prefix !== undefined ? { prefix } : {}) }),
    proxiedConfig: (sync = {}, name = 'proxied.ini') =>
      instance.writeConfig({ source: s3Section(sourceProxy.endpoint, sourceBucket), destination: s3Section(destinationProxy.endpoint, destinationBucket), sync: { concurrency: 8, ...sync } }, name),
    async assertDestinationComplete() {
      assert.deepEqual(await instance.destinationKeys(), [...expected.keys()].sort());
      for (const [key, body] of expected) {
        const object = await instance.destinationObject(key);
        assert.ok(object?.body.equals(body), `${key}: the destination's bytes differ from the source's`);
      }
    },
    async close() {
      await Promise.all([sourceProxy.close(), destinationProxy.close()]);
      await instance.close();
    },
  };
}

/** Requests about one object (not the bucket, not the write check of `check('write')`). */
export function perObjectRequests(requests: readonly RecordedRequest[]): RecordedRequest[] {
  return requests.filter((request) => /^\/[^/]+\/.+/.test(request.path) && !request.path.endsWith('/.mastodon-s3-sync-write-check'));
}

/** A listing of objects (the inventory, `orphans`), not the one-key listing of a storage check. */
export function isObjectListing(request: RecordedRequest): boolean {
  return request.method === 'GET' && /list-type=2/.test(request.query) && !isCheckListing(request);
}

/**
 * Misbehaves on `share` of the requests about objects and listings, but at
 * most `perPath` times for one path (any method), so that every object still
 * gets through within the retry budget however the dice fall. Storage checks
 * (the one-key listing, the write probe) are left alone.
 */
export function boundedFaults(share: number, kinds: Fault[], perPath = 2, seed = 7): FaultPlan {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const seen = new Map<string, number>();
  return {
    choose(request) {
      const isListing = isObjectListing(request);
      if (!isListing && perObjectRequests([request]).length === 0) return undefined;
      const key = `${request.path}?${isListing ? request.query : ''}`;
      if ((seen.get(key) ?? 0) >= perPath || next() >= share) return undefined;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return kinds[Math.floor(next() * kinds.length)];
    },
  };
}
