// What a copy loop costs without the AWS SDK: GET streamed into PUT over Node's own http
// module with keep-alive, each request signed with a minimal AWS Signature V4
// (UNSIGNED-PAYLOAD, the same as the SDK sends for streamed bodies over plain HTTP... and
// what any S3 server accepts). No retries, no checks: an upper bound for the engine's data
// path on this machine, measured to size the recommendation in docs/benchmarks.md.
//
//   node bench/lean-copy.mjs '{"source":{"endpoint":"…","bucket":"…"},"destination":{…},"keysFile":"…","concurrency":64}'
// Prints one JSON line: { objects, bytes, failed }.
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const args = JSON.parse(process.argv[2] ?? '{}');
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };
const agent = new http.Agent({ keepAlive: true, maxSockets: args.concurrency });

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
let cachedDay = '';
let cachedKey = Buffer.alloc(0);
function signingKey(day) {
  if (day !== cachedDay) {
    cachedDay = day;
    cachedKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), credentials.region), 's3'), 'aws4_request');
  }
  return cachedKey;
}
const encodeSegment = (segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Headers for a path-style request, signed over host, x-amz-content-sha256 and x-amz-date. */
export function sign(method, endpoint, bucket, key, now = new Date()) {
  const url = new URL(endpoint);
  const path = `/${bucket}/${key.split('/').map(encodeSegment).join('/')}`;
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payload = 'UNSIGNED-PAYLOAD';
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonical = [method, path, '', `host:${url.host}`, `x-amz-content-sha256:${payload}`, `x-amz-date:${amzDate}`, '', signedHeaders, payload].join('\n');
  const scope = `${day}/${credentials.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const signature = createHmac('sha256', signingKey(day)).update(stringToSign).digest('hex');
  return {
    hostname: url.hostname,
    port: url.port,
    path,
    headers: {
      host: url.host,
      'x-amz-content-sha256': payload,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  };
}

function copy(key) {
  return new Promise((resolve, reject) => {
    const get = sign('GET', args.source.endpoint, args.source.bucket, key);
    const request = http.request({ ...get, method: 'GET', agent }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${response.statusCode}`));
        return;
      }
      const length = Number(response.headers['content-length']);
      const put = sign('PUT', args.destination.endpoint, args.destination.bucket, key);
      const upload = http.request(
        {
          ...put,
          method: 'PUT',
          agent,
          headers: {
            ...put.headers,
            'content-length': length,
            ...(response.headers['content-type'] ? { 'content-type': response.headers['content-type'] } : {}),
            ...(response.headers['cache-control'] ? { 'cache-control': response.headers['cache-control'] } : {}),
            'x-amz-acl': 'public-read',
          },
        },
        (answer) => {
          answer.resume();
          answer.on('end', () => (answer.statusCode === 200 ? resolve(length) : reject(new Error(`PUT ${answer.statusCode}`))));
        },
      );
      upload.on('error', reject);
      response.on('error', reject);
      response.pipe(upload);
    });
    request.on('error', reject);
    request.end();
  });
}

async function main() {
  const keys = (await readFile(args.keysFile, 'utf8')).split('\n').filter((line) => line !== '');
  let next = 0;
  let objects = 0;
  let bytes = 0;
  let failed = 0;
  async function worker() {
    for (;;) {
      const key = keys[next++];
      if (key === undefined) return;
      try {
        const length = await copy(key);
        bytes += length;
        objects += 1;
      } catch (error) {
        failed += 1;
        process.stderr.write(`lean-copy: ${key}: ${String(error)}\n`);
      }
    }
  }
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ objects, bytes, failed })}\n`);
}

// Run as a program; imported (to check the signer), do nothing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
