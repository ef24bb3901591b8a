import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { s3ClientFor } from '../helpers/s3-server.js';
import { startLocalS3 } from '../../tools/local-s3/local-s3.js';

test('the local S3 survives a DELETE that empties a folder while another PUT goes into it (workers probing one prefix at once)', async () => {
  const server = await startLocalS3({ buckets: ['media'] });
  const client = s3ClientFor(server.endpoint);
  try {
    const probe = async (worker: number, round: number): Promise<void> => {
      const key = `tenant/probe-${worker}-${round}`;
      await client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: 'probe' }));
      await client.send(new DeleteObjectCommand({ Bucket: 'media', Key: key }));
    };
    const rounds = 200;
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let round = 0; round < rounds; round++) await probe(worker, round);
      }),
    );
    const counts = await server.counts();
    assert.equal(counts['PUT 200'], 4 * rounds);
    assert.equal(counts['DELETE 204'], 4 * rounds);
  } finally {
    client.destroy();
    await server.stop();
  }
});
