import { Transform, type Readable } from 'node:stream';
import { BodySizeMismatchError } from './errors.js';
import { pipeThrough } from './pipe-through.js';

/**
 * The body a back end writes: `body` unchanged, but failing (before it ends)
 * when it delivers more or fewer bytes than `expected`, so that a back end
 * that commits only on a clean end never publishes a truncated object (an S3
 * upload is aborted, a file is never renamed into place). `onBytes` hears each
 * chunk as the back end takes it: one pass-through stage does both, since
 * every stage holds chunks of its own in memory.
 * Errors of `body` reach the returned stream too.
 */
export function writtenBody(body: Readable, expected: number | undefined, onBytes: ((bytes: number) => void) | undefined): Readable {
  if (expected === undefined && onBytes === undefined) return body;
  let received = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (expected !== undefined && received > expected) return callback(new BodySizeMismatchError(expected, received));
      onBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback) {
      callback(expected === undefined || received === expected ? null : new BodySizeMismatchError(expected, received));
    },
  });
  return pipeThrough(body, check);
}
