import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3StorageOptions } from '../storage-options.js';

export interface S3Timeouts {
  /** How long opening a TCP/TLS connection may take: an unreachable endpoint fails fast. */
  connectionMs: number;
  /**
   * How long a socket may sit idle mid-request. Not a total request time: a
   * multi-gigabyte body may take as long as it needs while bytes keep flowing.
   */
  idleMs: number;
}

export const defaultS3Timeouts: S3Timeouts = { connectionMs: 10_000, idleMs: 120_000 };

const ignore = (): void => undefined;
const silentLogger = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

export function createS3Client(options: S3StorageOptions, timeouts: S3Timeouts): S3Client {
  // Agent options rather than Agent instances: the handler then builds keep-alive agents itself
  // and keeps its 100-continue handling (a PUT refused with 403 is refused before its body is sent).
  const agent = { keepAlive: true, maxSockets: options.maxSockets };
  return new S3Client({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    // Streamed PUT bodies otherwise go aws-chunked with a trailing CRC, which s3rver and several
    // S3-compatible providers store verbatim (a corrupt object answered with 200).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Storages are passive: the transfer layer owns retries (with backoff the scheduler can see),
    // and a streamed body could not be replayed by the SDK anyway.
    maxAttempts: 1,
    // The SDK otherwise console.warn()s on its own (e.g. for every failed streamed PUT), in the middle
    // of the CLI's output; every failure reaches the caller as an error and is reported there.
    logger: silentLogger,
    requestHandler: new NodeHttpHandler({
      httpAgent: agent,
      httpsAgent: agent,
      connectionTimeout: timeouts.connectionMs,
      socketTimeout: timeouts.idleMs,
    }),
  });
}
