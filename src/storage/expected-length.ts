import { Transform, type Readable } from 'node:stream';
import { BodySizeMismatchError } from './errors.js';
import { pipeThrough } from './pipe-through.js';

/**
 * Passes `body` through unchanged but fails the stream (before it ends) when it
 * delivers more or fewer bytes than announced. A back end that commits only on
 * a clean end therefore never publishes a truncated object: an S3 upload is
 * aborted, a file is never renamed into place.
 * Errors of `body` reach the returned stream too.
 */
export function withExpectedLength(body: Readable, expected: number | undefined): Readable {
  if (expected === undefined) return body;
  let received = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > expected) callback(new BodySizeMismatchError(expected, received));
      else callback(null, chunk);
    },
    flush(callback) {
      callback(received === expected ? null : new BodySizeMismatchError(expected, received));
    },
  });
  return pipeThrough(body, check);
}
