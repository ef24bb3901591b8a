// The practical limit: the plainest correct copy loop the AWS SDK allows — no existence
// check, no cache/ fallback, no stats, three tries per key (copy-loop.mjs): GetObject streamed straight into PutObject,
// `concurrency` at a time. Metadata is carried as the tool carries it (Content-Type,
// Cache-Control, an ACL header), so the requests are the same size.
// Plain JavaScript on purpose: run by plain `node`, so no TypeScript loader sits in the
// measured process tree.
//
//   node bench/bare-copy.mjs '{"source":{"endpoint":"…","bucket":"…"},"destination":{…},"keysFile":"…","concurrency":64}'
// Prints one JSON line: { objects, bytes, failed }.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { copyEveryKey } from './copy-loop.mjs';

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
async function copy(key) {
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
  return got.ContentLength ?? 0;
}

const result = await copyEveryKey({ keysFile: args.keysFile, concurrency: args.concurrency, label: 'bare-copy', copy });
source.destroy();
destination.destroy();
process.stdout.write(`${JSON.stringify(result)}\n`);
