import { Writable } from 'node:stream';

export interface LogLine {
  /** Increases by one a line, so that a live page asks only for lines it has not shown. */
  seq: number;
  line: string;
}

/** Colour codes pino-pretty adds on a terminal: the page shows plain text. */
const ansiEscape = /\u001b\[[0-9;]*m/g;
/** A runaway line (a huge error object) must not hold megabytes in the tail. */
const maxLineLength = 4000;

/**
 * The last `capacity` lines the logger wrote, JSON or pretty, for the dashboard's log tail. It only
 * ever sees what pino already wrote, so credentials are already `[redacted]`.
 */
export class LogTail extends Writable {
  readonly #lines: LogLine[] = [];
  #partial = '';
  #seq = 0;

  constructor(readonly capacity = 500) {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.append(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#partial !== '') this.#push(this.#partial);
    this.#partial = '';
    callback();
  }

  /** Synchronous form of write(), for callers that must not wait for the stream's next tick. */
  append(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const part of parts) this.#push(part);
  }

  /** The newest `limit` lines, oldest first. */
  lines(limit = this.capacity): LogLine[] {
    return limit <= 0 ? [] : this.#lines.slice(-limit);
  }

  /** Lines newer than `seq`, oldest first. */
  since(seq: number): LogLine[] {
    const first = this.#lines.findIndex((line) => line.seq > seq);
    return first === -1 ? [] : this.#lines.slice(first);
  }

  get lastSeq(): number {
    return this.#seq;
  }

  #push(raw: string): void {
    const line = raw.replace(ansiEscape, '').replace(/\r$/, '');
    if (line.trim() === '') return;
    this.#lines.push({ seq: ++this.#seq, line: line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…` : line });
    if (this.#lines.length > this.capacity) this.#lines.shift();
  }
}

/**
 * A stream that writes everything to `primary` (stderr, the progress bar's log sink) and to `tail`:
 * what the logger should write to when the dashboard is on.
 */
export function teeToLogTail(primary: NodeJS.WritableStream, tail: LogTail): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, callback) {
      tail.append(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      // Done at once, as when pino writes to stderr itself: nothing waits in this stream at exit.
      primary.write(chunk);
      callback();
    },
  });
}
