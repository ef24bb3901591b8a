import type { Readable, Transform } from 'node:stream';

/**
 * `body.pipe(through)` with failures going both ways, as stream.pipeline does:
 * an error or a premature close of `body` fails `through` (its reader sees
 * it), and `through` closing early (its reader gave up) destroys `body`.
 * pipeline itself builds an AbortController per call, whose abort on
 * completion constructs a DOMException with a stack: measurable at one
 * pipeline per object.
 */
export function pipeThrough<T extends Transform>(body: Readable, through: T): T {
  body.once('error', (error) => through.destroy(error));
  body.once('close', () => {
    if (!body.readableEnded) through.destroy(new PrematureCloseError());
  });
  through.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  // The reader may start reading only later (after opening a file, say); an error emitted before it
  // listens must not crash the process. The reader still gets it: an errored stream rejects its reads.
  through.on('error', () => undefined);
  return body.pipe(through);
}

export class PrematureCloseError extends Error {
  override readonly name = 'PrematureCloseError';
  /** Node's own code for it, which the transient-error check knows. */
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
  constructor() {
    super('the source body closed before its end');
  }
}
