import { Transform, type Readable } from 'node:stream';
import { pipeThrough } from '../storage/pipe-through.js';

/**
 * Wraps a body so that bytes are counted as they pass, without the copy code or
 * the storage back end knowing. Errors of the body reach the wrapper's reader.
 */
export function countingStream(body: Readable, onBytes: (bytes: number) => void): { stream: Readable; bytes: () => number } {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
  return { stream: pipeThrough(body, counter), bytes: () => total };
}
