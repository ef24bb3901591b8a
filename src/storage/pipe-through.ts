import type { Readable, Transform, Writable } from 'node:stream';

/**
 * `body.pipe(through)` with failures going both ways, as stream.pipeline does:
 * an error or a premature close of `body` fails `through` (its reader sees
 * it), and `through` closing early (its reader gave up) destroys `body`.
 * pipeline itself builds an AbortController per call, whose abort on
 * completion constructs a DOMException with a stack: measurable at one
 * pipeline per object.
 */
export function pipeThrough<T extends Transform>(body: Readable, through: T): T {
  linkFailures(body, through);
  // The reader may start reading only later (after opening a file, say); an error emitted before it
  // listens must not crash the process. The reader still gets it: an errored stream rejects its reads.
  through.on('error', () => undefined);
  return body.pipe(through);
}

/**
 * Failures both ways between `body` and what it is written into: an error or
 * a premature close of `body` destroys `destination`, and `destination`
 * closing before `body` ended destroys `body`.
 */
export function linkFailures(body: Readable, destination: Writable): void {
  body.once('error', (error) => destination.destroy(error));
  body.once('close', () => {
    if (!body.readableEnded) destination.destroy(new PrematureCloseError());
  });
  destination.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
}

class PrematureCloseError extends Error {
  override readonly name = 'PrematureCloseError';
  /** Node's own code for it, which the transient-error check knows. */
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
  constructor() {
    super('the source body closed before its end');
  }
}
