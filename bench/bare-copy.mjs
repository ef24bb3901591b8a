// The practical limit: the plainest correct copy loop the AWS SDK allows — no existence
// check, no retries, no cache/ fallback, no stats: GetObject streamed straight into PutObject,
// `concurrency` at a time. Metadata is carried as the tool carries it (Content-Type,
// Cache-Control, an ACL header), so the requests are the same size.
// Plain JavaScript on purpose: run by plain `node`, so no TypeScript loader sits in the
// measured process tree.
//
//   node bench/bare-copy.mjs '{"source":{"endpoint":"…","bucket":"…"},"destination":{…},"keysFile":"…","concurrency":64}'
// Prints one JSON line: { objects, bytes, failed }.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFile } from 'node:fs/promises';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const args = JSON.parse(process.argv[2] ?? '{}');

function client(endpoint) {
  const agent = { keepAlive: true, maxSockets: args.concurrency };
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpAgent: agent, httpsAgent: agent }),
  });
}

const source = client(args.source.endpoint);
const destination = client(args.destination.endpoint);
const keys = (await readFile(args.keysFile, 'utf8')).split('\n').filter((line) => line !== '');

let next = 0;
let objects = 0;
let bytes = 0;
let failed = 0;
async function worker() {
  for (;;) {
    const key = keys[next++];
    if (key === undefined) return;
    // Up to three tries, as any copier would: a streamed body cannot be replayed by the SDK's own retries.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        const got = await source.send(new GetObjectCommand({ Bucket: args.source.bucket, Key: key }));
        await destination.send(
          new PutObjectCommand({
            Bucket: args.destination.bucket,
            Key: key,
            Body: got.Body,
            ContentLength: got.ContentLength,
            ContentType: got.ContentType,
            CacheControl: got.CacheControl,
            ACL: 'public-read',
          }),
        );
        objects += 1;
        bytes += got.ContentLength ?? 0;
        break;
      } catch (error) {
        process.stderr.write(`bare-copy: ${key} (try ${attempt}): ${String(error)}\n`);
        if (attempt === 3) failed += 1;
      }
    }
  }
}
await Promise.all(Array.from({ length: args.concurrency }, worker));
source.destroy();
destination.destroy();
process.stdout.write(`${JSON.stringify({ objects, bytes, failed })}\n`);
