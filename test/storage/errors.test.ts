/**
 * isTransientError / describeStorageError against errors as they really arrive:
 * from s3rver, from small HTTP/TCP servers that throttle, hang up or stall, and
 * from the storage classes themselves.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { TransientStorageError } from '../../src/storage/storage.js';
import { BodySizeMismatchError, InvalidKeyError, StorageWriteError, describeStorageError, isTransientError } from '../../src/storage/errors.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { s3rverStorageOptions } from '../../tools/local-s3/local-s3.js';

async function listening<T extends HttpServer | TcpServer>(server: T): Promise<{ server: T; endpoint: string }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** An S3-looking server that answers every request with `status` and an S3 error document. */
function answering(status: number, code: string): HttpServer {
  return createHttpServer((request, response) => {
    request.resume();
    response.writeHead(status, { 'content-type': 'application/xml' });
    response.end(request.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>test</Message></Error>`);
  });
}

/** What `operation` throws against `endpoint`. */
async function errorFrom(
  operation: (storage: S3Storage) => Promise<unknown>,
  endpoint: string,
  options: { idleMs?: number; bucket?: string; accessKeyId?: string } = {},
): Promise<unknown> {
  const { idleMs, bucket = 'media', ...overrides } = options;
  const storage = new S3Storage(s3rverStorageOptions(endpoint, bucket, overrides), idleMs === undefined ? {} : { timeouts: { idleMs } });
  try {
    await operation(storage);
  } catch (error) {
    return error;
  } finally {
    await storage.close();
  }
  assert.fail('expected the operation to fail');
}

const read = (storage: S3Storage) => storage.read('a/key.png');
const head = (storage: S3Storage) => storage.head('a/key.png');

describe('errors from servers that throttle, fail, hang up or stall are transient', () => {
  const servers: Array<HttpServer | TcpServer> = [];
  after(() => {
    for (const server of servers) server.close();
  });
  async function serve<T extends HttpServer | TcpServer>(server: T): Promise<string> {
    servers.push(server);
    return (await listening(server)).endpoint;
  }

  for (const [status, code] of [[503, 'SlowDown'], [500, 'InternalError'], [429, 'TooManyRequests'], [502, 'BadGateway']] as const) {
    test(`${status} ${code}`, async () => {
      const endpoint = await serve(answering(status, code));
      const fromGet = await errorFrom(read, endpoint);
      assert.equal(isTransientError(fromGet), true);
      assert.equal(describeStorageError(fromGet), `${status} ${code}`);
      // HEAD answers carry no error document: only the status tells.
      const fromHead = await errorFrom(head, endpoint);
      assert.equal(isTransientError(fromHead), true);
      assert.match(describeStorageError(fromHead), new RegExp(`^${status} \\w+$`));
    });
  }

  test('400 RequestTimeout (S3 stopped waiting for a slow upload body)', async () => {
    const endpoint = await serve(answering(400, 'RequestTimeout'));
    const fromPut = await errorFrom((storage) => storage.write('a/key.png', Readable.from([Buffer.from('body')]), { size: 4 }), endpoint);
    assert.equal(isTransientError(fromPut), true);
    assert.equal(describeStorageError(fromPut), '400 RequestTimeout');
  });

  test('400 RequestThrottled (a throttle some S3-compatible services send with a 400)', async () => {
    const endpoint = await serve(answering(400, 'RequestThrottled'));
    const fromGet = await errorFrom(read, endpoint);
    assert.equal(isTransientError(fromGet), true);
    assert.equal(describeStorageError(fromGet), '400 RequestThrottled');
  });

  test('a connection closed without an answer (socket hang up)', async () => {
    const endpoint = await serve(createTcpServer((socket) => socket.once('data', () => socket.destroy())));
    const error = await errorFrom(read, endpoint);
    assert.equal(isTransientError(error), true);
    assert.equal(describeStorageError(error), 'ECONNRESET');
  });

  test('a server that accepts and never answers (idle timeout)', async () => {
    const endpoint = await serve(createTcpServer(() => undefined));
    const started = performance.now();
    const error = await errorFrom(read, endpoint, { idleMs: 300 });
    assert.ok(performance.now() - started < 5000);
    assert.equal(isTransientError(error), true);
    assert.match(describeStorageError(error), /^TimeoutError: .*300 ms/);
  });

  test('a refused connection (a server restarting mid-run)', async () => {
    const probe = await listening(createTcpServer());
    await new Promise<void>((resolve) => probe.server.close(() => resolve()));
    const error = await errorFrom(read, probe.endpoint);
    assert.equal(isTransientError(error), true);
    assert.equal(describeStorageError(error), 'ECONNREFUSED');
  });
});

describe('answers that another try will not change are permanent', () => {
  let server: S3Server;
  before(async () => {
    server = await startS3Server({ buckets: ['media'] });
  });
  after(async () => {
    await server.stop();
  });

  test('403 from an unknown access key', async () => {
    const fromGet = await errorFrom(read, server.endpoint, { accessKeyId: 'NOT-A-KEY' });
    assert.equal(isTransientError(fromGet), false);
    assert.equal(describeStorageError(fromGet), '403 InvalidAccessKeyId');
    const fromHead = await errorFrom(head, server.endpoint, { accessKeyId: 'NOT-A-KEY' });
    assert.equal(isTransientError(fromHead), false);
    assert.equal(describeStorageError(fromHead), '403 Forbidden');
  });

  test('404 for a missing bucket or a missing copy source', async () => {
    const noBucket = await errorFrom(read, server.endpoint, { bucket: 'absent-bucket' });
    assert.equal(isTransientError(noBucket), false);
    assert.equal(describeStorageError(noBucket), '404 NoSuchBucket');
    const noSource = await errorFrom((storage) => storage.copyFrom(storage, 'absent.png', 'copy.png', {}), server.endpoint);
    assert.equal(isTransientError(noSource), false);
    assert.equal(describeStorageError(noSource), '404 NoSuchKey');
  });

  test('501 NotImplemented from a provider without a feature a header asks for (a per-object ACL, a storage class)', async () => {
    const lacking = (await listening(answering(501, 'NotImplemented'))).server;
    try {
      const error = await errorFrom((storage) => storage.write('a/key.png', Readable.from([Buffer.from('body')]), { size: 4, acl: 'private' }), `http://127.0.0.1:${(lacking.address() as { port: number }).port}`);
      assert.equal(isTransientError(error), false);
      assert.equal(describeStorageError(error), '501 NotImplemented');
    } finally {
      lacking.close();
    }
  });

  test('400 from a server refusing the request', async () => {
    const refusing = (await listening(answering(400, 'InvalidArgument'))).server;
    try {
      const error = await errorFrom(read, `http://127.0.0.1:${(refusing.address() as { port: number }).port}`);
      assert.equal(isTransientError(error), false);
      assert.equal(describeStorageError(error), '400 InvalidArgument');
    } finally {
      refusing.close();
    }
  });
});

describe('the storage layer\'s own errors', () => {
  test('disk full, read-only and invalid keys are permanent; a short body and TransientStorageError are not', () => {
    const diskFull = new StorageWriteError('ENOSPC: no space left on the device writing /srv/x.png', 'storage.disk-full');
    assert.equal(isTransientError(diskFull), false);
    assert.equal(describeStorageError(diskFull), 'ENOSPC: no space left on the device writing /srv/x.png');
    assert.equal(isTransientError(new InvalidKeyError('../x', 'contains a ".." segment')), false);
    assert.equal(isTransientError(new BodySizeMismatchError(10, 5)), true);
    assert.equal(isTransientError(new TransientStorageError('throttled')), true);
  });

  test('errors flagged transient, or caused by a transient one, are transient; anything else is not', () => {
    // Shaped like storage's BodySizeMismatchError: errors may flag themselves.
    assert.equal(isTransientError(Object.assign(new Error('source body ended early'), { transient: true })), true);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    assert.equal(isTransientError(new Error('stream failed', { cause: reset })), true);
    assert.equal(isTransientError(new Error('boom')), false);
    assert.equal(isTransientError('a string'), false);
    assert.equal(describeStorageError(new Error('first line\nsecond line')), 'first line');
    assert.equal(describeStorageError('plain string'), 'plain string');
  });
});
