/**
 * A real HTTP proxy in front of an S3 server, for what s3rver cannot show:
 * it records every request (method, key, headers such as x-amz-acl), and can
 * misbehave on purpose (503 SlowDown, 500, connection resets, stalls, answers
 * re-sent chunked without Content-Length, answers stripped of a header) for a share of requests, so that
 * tests see the client survive real faults. With `verifySignatures` it
 * refuses, as S3 does, any request whose SigV4 signature is wrong (s3rver
 * checks only the access key id).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Mismatch } from './sigv4-check.js';

export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/bucket/cache/accounts/...`. */
  path: string;
  query: string;
  headers: http.IncomingHttpHeaders;
}

/** The one-key listing (`max-keys=1`) a storage check sends, not a listing of objects. */
export function isCheckListing(request: RecordedRequest): boolean {
  return request.method === 'GET' && /(^|&)max-keys=1(&|$)/.test(request.query);
}

/** `delay` is no fault: the request is forwarded, 50 ms late (a slow link, so that a run takes time). */
/**
 * not-implemented: R2's 501 for a header it lacks (x-amz-acl, x-amz-storage-class), naming the header the request carries;
 * acls-disabled: AWS's 400 for any ACL sent to a bucket whose ObjectOwnership is BucketOwnerEnforced.
 */
export type Fault = 'slow-down' | 'internal-error' | 'reset' | 'stall' | 'forbidden' | 'delay' | 'not-implemented' | 'acls-disabled' | Reshaping;

/**
 * The request is forwarded and the answer re-sent without Content-Length, in chunked transfer encoding,
 * as some S3-compatible gateways and proxies answer a GET: `chunked` whole, `chunked-cut` only its first
 * half, after which the connection drops (no closing chunk: the client sees a body broken mid-way).
 * `no-content-length` and `no-content-type` pass the answer on without that header, as a gateway that
 * strips it: a HEAD then tells no size (a GET's body comes chunked, as with `chunked`), or no type.
 */
export type Reshaping = 'chunked' | 'chunked-cut' | 'no-content-length' | 'no-content-type';

/**
 * The request waits until `until` settles, then is forwarded (a transfer the test keeps in flight), or meets `then`.
 * With `afterBodyBytes` it is forwarded at once, and its answer stops after that many bytes of the body until `until`
 * settles (a download caught half-way).
 */
export interface Hold {
  until: Promise<unknown>;
  then?: Exclude<Fault, 'delay' | Reshaping>;
  afterBodyBytes?: number;
}

export interface FaultPlan {
  /** Decides, per request, whether and how to misbehave. */
  choose(request: RecordedRequest, index: number): Fault | Hold | undefined;
}

export interface S3Proxy {
  endpoint: string;
  requests: RecordedRequest[];
  faults: Fault[];
  setFaults(plan: FaultPlan | undefined): void;
  close(): Promise<void>;
}

/** A plan that misbehaves on `share` of requests, deterministically from `seed`. */
export function randomFaults(share: number, kinds: Fault[], seed = 1): FaultPlan {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return { choose: () => (next() < share ? kinds[Math.floor(next() * kinds.length)] : undefined) };
}

export interface S3ProxyOptions {
  /** Refuse requests not signed with this secret: 403 SignatureDoesNotMatch, as S3 answers. */
  verifySignatures?: { secretAccessKey: string };
  /** Never answer `Expect: 100-continue` with 100, as some servers and proxies do: the client must send the body anyway. */
  ignoreExpectContinue?: boolean;
  /** Answer `Expect: 100-continue` with 100 only after this long (a busy server), later than the client waits for it. */
  continueAfterMs?: number;
}

/**
 * `answer` as `shaping` says. Without its Content-Length, Node sends the body in chunked transfer
 * encoding (a HEAD's answer has none). With `chunked-cut`, only the first half of the body goes out
 * (flushed), then the connection is destroyed.
 */
function reshape(answer: http.IncomingMessage, response: http.ServerResponse, shaping: Reshaping): void {
  const { [shaping === 'no-content-type' ? 'content-type' : 'content-length']: stripped, ...headers } = answer.headers;
  if (shaping !== 'chunked-cut') {
    response.writeHead(answer.statusCode ?? 502, headers);
    answer.pipe(response);
    return;
  }
  const drop = (): void => {
    answer.destroy();
    response.socket?.destroy();
  };
  let left = Math.floor(Number(stripped ?? 0) / 2);
  // A body too short to halve is cut before the headers.
  if (left === 0) return drop();
  response.writeHead(answer.statusCode ?? 502, headers);
  answer.on('data', (chunk: Buffer) => {
    if (left <= 0) return;
    const part = chunk.subarray(0, left);
    left -= part.length;
    const last = left <= 0;
    // Once the half is on the wire: the client has a body broken mid-way, not an empty answer.
    response.write(part, () => {
      if (last) drop();
    });
  });
}

export async function startS3Proxy(target: string, options: S3ProxyOptions = {}): Promise<S3Proxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let plan: FaultPlan | undefined;
  const sockets = new Set<import('node:net').Socket>();

  const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const [path = '/', query = ''] = (request.url ?? '/').split('?');
    const recorded: RecordedRequest = { method: request.method ?? 'GET', path: decodeURIComponent(path), query, headers: request.headers };
    requests.push(recorded);
    const mismatch = options.verifySignatures === undefined ? undefined : sigV4Mismatch(recorded.method, request.url ?? '/', request.headers, options.verifySignatures.secretAccessKey);
    if (mismatch !== undefined) {
      request.resume();
      response
        .writeHead(403, { 'content-type': 'application/xml', connection: 'close' })
        .end(request.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${mismatch.split('\n', 1)[0]}</Message></Error>`);
      return;
    }
    const forward = (shaping?: Reshaping | Hold): void => {
      const forwarded = http.request(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
        (answer) => {
          if (typeof shaping === 'string') return reshape(answer, response, shaping);
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          if (shaping === undefined) answer.pipe(response);
          else void passOnHeldMidBody(answer, response, shaping);
        },
      );
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    };
    const fault = plan?.choose(recorded, requests.length - 1);
    if (fault === 'delay') {
      request.pause();
      setTimeout(forward, 50);
      return;
    }
    if (fault === 'chunked' || fault === 'chunked-cut' || fault === 'no-content-length' || fault === 'no-content-type') {
      faults.push(fault);
      forward(fault);
      return;
    }
    const misbehave = (kind: Exclude<Fault, 'delay' | Reshaping>): void => {
      faults.push(kind);
      request.resume();
      switch (kind) {
        case 'slow-down':
          response.writeHead(503, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
          return;
        case 'internal-error':
          response.writeHead(500, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>');
          return;
        case 'forbidden':
          // A permanent refusal (a bucket policy, a revoked key): never worth a retry.
          response
            .writeHead(403, { 'content-type': 'application/xml' })
            .end(request.method === 'HEAD' ? undefined : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
          return;
        case 'not-implemented': {
          const header = ['x-amz-acl', 'x-amz-storage-class'].find((name) => request.headers[name] !== undefined) ?? 'x-amz-acl';
          response
            .writeHead(501, { 'content-type': 'application/xml' })
            .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>Header &apos;${header}&apos; with value &apos;${String(request.headers[header])}&apos; not implemented</Message></Error>`);
          return;
        }
        case 'acls-disabled':
          response
            .writeHead(400, { 'content-type': 'application/xml' })
            .end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessControlListNotSupported</Code><Message>The bucket does not allow ACLs</Message></Error>');
          return;
        case 'reset':
          request.socket.destroy();
          return;
        case 'stall':
          // Never answer: the client's own timeout must fire. The socket is destroyed on close().
          return;
      }
    };
    if (typeof fault === 'object' && fault.afterBodyBytes !== undefined) return forward(fault);
    if (typeof fault === 'object') {
      request.pause();
      const release = (): void => (fault.then === undefined ? forward() : misbehave(fault.then));
      void fault.until.then(release, release);
      return;
    }
    if (fault !== undefined) return misbehave(fault);
    forward();
  };
  const server = http.createServer(handle);
  // With a listener, Node no longer answers 100 by itself; passing the request on without writeContinue() ignores the Expect.
  if (options.ignoreExpectContinue === true) server.on('checkContinue', handle);
  const { continueAfterMs } = options;
  if (continueAfterMs !== undefined) {
    server.on('checkContinue', (request: http.IncomingMessage, response: http.ServerResponse) => {
      setTimeout(() => {
        response.writeContinue();
        handle(request, response);
      }, continueAfterMs);
    });
  }
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    faults,
    setFaults(next) {
      plan = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The answer's body up to `hold.afterBodyBytes`, the rest once `hold.until` settles; a client that goes away ends it. */
async function passOnHeldMidBody(answer: http.IncomingMessage, response: http.ServerResponse, hold: Hold): Promise<void> {
  response.on('close', () => answer.destroy());
  let passed = 0;
  let held = false;
  try {
    for await (const chunk of answer as AsyncIterable<Buffer>) {
      const room = hold.afterBodyBytes! - passed;
      if (!held && room < chunk.length) {
        held = true;
        response.write(chunk.subarray(0, room));
        await hold.until.catch(() => undefined);
        if (response.destroyed) return;
        response.write(chunk.subarray(room));
      } else {
        response.write(chunk);
      }
      passed += chunk.length;
    }
    response.end();
  } catch {
    response.destroy();
  }
}
