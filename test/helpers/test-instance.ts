/**
 * A whole throwaway Mastodon for end-to-end tests: a scratch database, a source
 * and a destination S3 server (two s3rver processes), and a config file that
 * points the CLI at them.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createScratchDatabase, insertMediaAttachment, type ScratchDatabase } from './postgres.js';
import { getTestObject, listTestKeys, putTestObject, s3ClientFor, s3rverCredentials, startS3Server, type S3Server, type TestObject } from './s3-server.js';

export const sourceBucket = 'old-media';
export const destinationBucket = 'new-media';

export interface TestInstance {
  database: ScratchDatabase;
  sourceServer: S3Server;
  destinationServer: S3Server;
  source: S3Client;
  destination: S3Client;
  /** A scratch directory for config files and fs storages. */
  directory: string;
  /** Writes an INI config; `sections` replace or add to the defaults, a `null` section drops it. */
  writeConfig(sections?: Record<string, Record<string, string | number | boolean> | null>, name?: string): Promise<string>;
  seed(key: string, body: string | Buffer, metadata?: { contentType?: string; cacheControl?: string }): Promise<void>;
  destinationKeys(): Promise<string[]>;
  destinationObject(key: string): Promise<TestObject | undefined>;
  close(): Promise<void>;
}

/** A [source] or [destination] section for an s3rver, or a proxy in front of one; `extra` adds or overrides keys (a prefix, another secret). */
export function s3Section(endpoint: string, bucket: string, extra: Record<string, string> = {}): Record<string, string> {
  return { type: 's3', endpoint, region: 'us-east-1', bucket, access_key_id: s3rverCredentials.accessKeyId, secret_access_key: s3rverCredentials.secretAccessKey, ...extra };
}

export async function createTestInstance(): Promise<TestInstance> {
  const [database, sourceServer, destinationServer, directory] = await Promise.all([
    createScratchDatabase(),
    startS3Server({ buckets: [sourceBucket] }),
    startS3Server({ buckets: [destinationBucket] }),
    mkdtemp(path.join(tmpdir(), 'mss-instance-')),
  ]);
  const source = s3ClientFor(sourceServer.endpoint);
  const destination = s3ClientFor(destinationServer.endpoint);
  return {
    database,
    sourceServer,
    destinationServer,
    source,
    destination,
    directory,
    async writeConfig(sections = {}, name = 'config.ini') {
      const all: Record<string, Record<string, string | number | boolean> | null> = {
        database: { url: database.url },
        source: s3Section(sourceServer.endpoint, sourceBucket),
        destination: s3Section(destinationServer.endpoint, destinationBucket),
        sync: { concurrency: 8 },
        ...sections,
      };
      const text = Object.entries(all)
        .filter((entry): entry is [string, Record<string, string | number | boolean>] => entry[1] !== null)
        .map(([section, values]) => `[${section}]\n${Object.entries(values).map(([key, value]) => `${key} = ${value}`).join('\n')}\n`)
        .join('\n');
      const file = path.join(directory, name);
      await writeFile(file, text);
      return file;
    },
    seed: (key, body, metadata) => putTestObject(source, sourceBucket, key, body, metadata),
    destinationKeys: () => listTestKeys(destination, destinationBucket),
    destinationObject: (key) => getTestObject(destination, destinationBucket, key),
    async close() {
      source.destroy();
      destination.destroy();
      await Promise.all([database.drop(), sourceServer.stop(), destinationServer.stop(), rm(directory, { recursive: true, force: true })]);
    },
  };
}

/** The summary line of one job from the CLI's `--json` output. */
export function jobSummary(stdout: string, job: string): Record<string, number> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const record = JSON.parse(line) as { summary: Array<Record<string, number> & { job: string }> };
  const summary = record.summary.find((entry) => entry.job === job);
  if (summary === undefined) throw new Error(`no summary for ${job} in ${line}`);
  return summary;
}

/** `rows` media rows of PNG images from id `firstId` on: each original's and small's key, with random bytes. */
export async function insertImages(instance: TestInstance, firstId: number, rows: number): Promise<Map<string, Buffer>> {
  const objects = new Map<string, Buffer>();
  for (let row = 0; row < rows; row += 1) {
    const id = String(firstId + row);
    const name = `${randomBytes(8).toString('hex')}.png`;
    await insertMediaAttachment(instance.database.client, { id, file_file_name: name, file_content_type: 'image/png', type: 0 });
    for (const style of ['original', 'small']) objects.set(`media_attachments/files/000/${id.slice(0, 3)}/${id.slice(3)}/${style}/${name}`, randomBytes(512));
  }
  return objects;
}
