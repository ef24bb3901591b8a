import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { UserError } from '../../errors.js';
import type { S3StorageOptions } from '../storage-options.js';
import { sendExactly } from '../written-body.js';
import type { S3Timeouts } from './s3-client.js';

/**
 * GET, HEAD and single PUT of objects: the data path, one request per object
 * each way. They go out through Node's own keep-alive agents, addressed by the
 * SDK's endpoint rules and signed by the SDK's SigV4 signer, but without its
 * middleware stack, which measured at 60% of the client's CPU per object (see
 * docs/benchmarks.md): on a busy host that CPU is taken from the transfers.
 * Everything else (bucket checks, listings, multipart, server-side copy) stays
 * with the SDK client.
 */
export class S3ObjectRequests {
  readonly #base: URL;
  /** The bucket's path on the endpoint (`/bucket` in path style, empty when virtual-hosted), keys go after it. */
  readonly #bucketPath: string;
  readonly #signer: SignatureV4;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #timeouts: S3Timeouts;

  constructor(client: S3Client, options: S3StorageOptions, timeouts: S3Timeouts) {
    const endpoint = client.config.endpointProvider({
      Bucket: options.bucket,
      Region: options.region,
      ForcePathStyle: options.forcePathStyle,
      UseFIPS: false,
      UseDualStack: false,
      Accelerate: false,
      ...(options.endpoint !== undefined ? { Endpoint: options.endpoint } : {}),
    });
    const scheme = (endpoint.properties?.['authSchemes'] as { name?: string; signingRegion?: string }[] | undefined)?.[0];
    if (scheme !== undefined && scheme.name !== 'sigv4') {
      throw new UserError(`bucket "${options.bucket}" needs the ${scheme.name} signing scheme, which this tool does not support: use a general-purpose bucket`, 'storage.unsupported-bucket');
    }
    this.#base = endpoint.url;
    this.#bucketPath = endpoint.url.pathname.replace(/\/$/, '');
    this.#signer = new SignatureV4({
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      region: scheme?.signingRegion ?? options.region,
      service: 's3',
      sha256: NodeSha256,
      // S3 signs the path exactly as sent: keys are encoded once, below.
      uriEscapePath: false,
    });
    const secure = this.#base.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#request = secure ? https.request : http.request;
    this.#timeouts = timeouts;
  }

  /** The object's headers, or undefined when S3 answers 404 for the key. */
  async head(key: string): Promise<IncomingHttpHeaders | undefined> {
    const response = await this.#send('HEAD', key, {});
    response.resume();
    if (response.statusCode === 404) return undefined;
    if (response.statusCode !== 200) throw await responseError(response);
    return response.headers;
  }

  /** The object's headers and its body, still streaming; undefined for a missing key. */
  async get(key: string): Promise<IncomingMessage | undefined> {
    const response = await this.#send('GET', key, {});
    if (response.statusCode === 200) return response;
    const error = await responseError(response);
    if (response.statusCode === 404 && error.name !== 'NoSuchBucket') return undefined;
    throw error;
  }

  /**
   * Streams `body` as one PutObject, which is sent whole only when the body has
   * exactly `size` bytes (sendExactly). A body that fails aborts the request at
   * once, and the body's error is the one reported. `onBytes` hears each chunk.
   */
  async put(key: string, body: Readable, size: number, headers: Record<string, string>, onBytes?: (bytes: number) => void): Promise<void> {
    const expectContinue = size >= expectContinueFrom;
    let sent: http.ClientRequest | undefined;
    const response = await this.#send('PUT', key, { ...headers, 'content-length': String(size), ...(expectContinue ? { expect: '100-continue' } : {}) }, (request) => {
      sent = request;
      body.once('error', (error) => request.destroy(error));
      if (!expectContinue) return sendExactly(body, request, size, onBytes);
      // A refused PUT (403, wrong region) answers before its body is sent; a server that ignores Expect gets the body anyway.
      // Whichever comes first sends it, once: a 100 arriving after the wait must not start a second copy of the body.
      const send = (): void => {
        clearTimeout(timer);
        request.off('continue', send);
        sendExactly(body, request, size, onBytes);
      };
      const timer = setTimeout(send, continueWaitMs);
      request.once('continue', send);
      request.once('response', () => clearTimeout(timer));
    });
    if (response.statusCode === 200) {
      response.resume();
      return;
    }
    const error = await responseError(response);
    // Answered before the whole body went out: the connection is mid-request and cannot be reused.
    if (sent?.writableFinished !== true) sent?.destroy();
    throw error;
  }

  destroy(): void {
    this.#agent.destroy();
  }

  async #send(method: 'GET' | 'HEAD' | 'PUT', key: string, headers: Record<string, string>, writeBody?: (request: http.ClientRequest) => void): Promise<IncomingMessage> {
    const path = `${this.#bucketPath}/${encodeKey(key)}`;
    const signed = await this.#signer.sign({
      method,
      protocol: this.#base.protocol,
      hostname: this.#base.hostname,
      ...(this.#base.port !== '' ? { port: Number(this.#base.port) } : {}),
      path,
      query: {},
      headers: { ...headers, host: this.#base.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    return new Promise((resolve, reject) => {
      const request = this.#request({
        agent: this.#agent,
        method,
        protocol: this.#base.protocol,
        hostname: this.#base.hostname,
        port: this.#base.port,
        path,
        headers: signed.headers,
      });
      request.once('response', resolve);
      request.once('error', reject);
      request.setTimeout(this.#timeouts.idleMs, () => request.destroy(new S3TimeoutError(`no data within ${this.#timeouts.idleMs} ms`)));
      request.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => request.destroy(new S3TimeoutError(`could not connect within ${this.#timeouts.connectionMs} ms`)), this.#timeouts.connectionMs);
        socket.once('connect', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
      });
      if (writeBody === undefined) request.end();
      else writeBody(request);
    });
  }
}

/** The SDK sends Expect: 100-continue for bodies from 2 MiB. */
const expectContinueFrom = 2 * 1024 * 1024;
const continueWaitMs = 1000;

/** Each path segment percent-encoded as S3 (and the SDK) expect: RFC 3986 unreserved characters stay, `/` separates. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** An S3 error answer, shaped as the SDK's errors are (name, $metadata.httpStatusCode), so one set of predicates reads both. */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(
    override readonly name: string,
    status: number,
    message: string,
  ) {
    super(message);
    this.$metadata = { httpStatusCode: status };
  }
}

export class S3TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

const maxErrorBody = 64 * 1024;

async function responseError(response: IncomingMessage): Promise<S3ResponseError> {
  const status = response.statusCode ?? 0;
  let text = '';
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (text.length < maxErrorBody) text += chunk.toString('utf8');
  }
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  // A HEAD answer has no body: 'Unknown', as the SDK calls it, and describeStorageError labels it by its status.
  return new S3ResponseError(code ?? 'Unknown', status, message ?? `HTTP ${status}`);
}

/** node:crypto behind the hash interface the signer takes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

class NodeSha256 {
  #hash: Hash | Hmac;
  readonly #secret: SourceData | undefined;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = newHash(secret);
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {
    this.#hash = newHash(this.#secret);
  }
}

function newHash(secret: SourceData | undefined): Hash | Hmac {
  if (secret === undefined) return createHash('sha256');
  const key = typeof secret === 'string' ? secret : ArrayBuffer.isView(secret) ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength) : new Uint8Array(secret);
  return createHmac('sha256', key);
}
