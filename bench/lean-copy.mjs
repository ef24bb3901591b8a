// What a copy loop costs without the AWS SDK's middleware: GET streamed into PUT over Node's
// own http module with keep-alive, each request signed with AWS Signature V4
// (UNSIGNED-PAYLOAD) by the SDK's own signer. No checks, no journal: an upper bound for the
// engine's data path on this machine.
//
//   node bench/lean-copy.mjs '{"source":{"endpoint":"…","bucket":"…"},"destination":{…},"keysFile":"…","concurrency":64}'
// Prints one JSON line: { objects, bytes, failed }.
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { copyEveryKey } from './copy-loop.mjs';

const args = JSON.parse(process.argv[2] ?? '{}');
const agent = new http.Agent({ keepAlive: true, maxSockets: args.concurrency });

class NodeSha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return this.hash.digest();
  }
}
const signer = new SignatureV4({ credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false });
const encodeSegment = (segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A signed path-style request (UNSIGNED-PAYLOAD). */
async function sign(method, endpoint, bucket, key, headers = {}) {
  const url = new URL(endpoint);
  const path = `/${bucket}/${key.split('/').map(encodeSegment).join('/')}`;
  const signed = await signer.sign({ method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query: {}, headers: { ...headers, host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  return { hostname: url.hostname, port: url.port, path, headers: signed.headers };
}

async function copy(key) {
  const get = await sign('GET', args.source.endpoint, args.source.bucket, key);
  const response = await new Promise((resolve, reject) => http.request({ ...get, method: 'GET', agent }, resolve).on('error', reject).end());
  if (response.statusCode !== 200) {
    response.resume();
    throw new Error(`GET ${response.statusCode}`);
  }
  const length = Number(response.headers['content-length']);
  const put = await sign('PUT', args.destination.endpoint, args.destination.bucket, key, {
    'content-length': String(length),
    ...(response.headers['content-type'] ? { 'content-type': response.headers['content-type'] } : {}),
    ...(response.headers['cache-control'] ? { 'cache-control': response.headers['cache-control'] } : {}),
    'x-amz-acl': 'public-read',
  });
  return new Promise((resolve, reject) => {
    const upload = http.request({ ...put, method: 'PUT', agent }, (answer) => {
      answer.resume();
      answer.on('end', () => (answer.statusCode === 200 ? resolve(length) : reject(new Error(`PUT ${answer.statusCode}`))));
    });
    upload.on('error', reject);
    response.on('error', reject);
    response.pipe(upload);
  });
}

const result = await copyEveryKey({ keysFile: args.keysFile, concurrency: args.concurrency, label: 'lean-copy', copy });
agent.destroy();
process.stdout.write(`${JSON.stringify(result)}\n`);
