import { Transform, type Readable, type Writable } from 'node:stream';
import { BodySizeMismatchError } from './errors.js';
import { linkFailures, pipeThrough } from './pipe-through.js';

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

/**
 * The same check for a destination that commits once it has the announced
 * length (an HTTP request with Content-Length): `body` is written into
 * `destination`, ended only when exactly `expected` bytes came, and destroyed
 * otherwise, with a BodySizeMismatchError or with the body's error or
 * premature close. The chunk that completes the length is held until the body
 * ends, so that a body longer than announced never reaches the server whole
 * (it would store the first `expected` bytes and answer 200). No stage
 * between them: each chunk goes straight from one to the other.
 */
export function sendExactly(body: Readable, destination: Writable, expected: number, onBytes: ((bytes: number) => void) | undefined): void {
  let received = 0;
  let last: Buffer | undefined;
  const fail = (error: Error): void => {
    destination.destroy(error);
    body.destroy();
  };
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > expected) return fail(new BodySizeMismatchError(expected, received));
    onBytes?.(chunk.length);
    if (received === expected) last = chunk;
    else if (!destination.write(chunk)) body.pause();
  });
  destination.on('drain', () => body.resume());
  body.once('end', () => {
    if (received !== expected) fail(new BodySizeMismatchError(expected, received));
    else if (last !== undefined) destination.end(last);
    else destination.end();
  });
  linkFailures(body, destination);
}
