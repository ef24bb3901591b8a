import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { UserError, errorCode } from '../errors.js';

/** Lines to stdout or a file, waiting for a slow reader instead of buffering millions of lines. */
export interface LineOutput {
  /** False once stdout's reader has gone (`| head` closed the pipe): the rest has no one to read it, and that is no failure. */
  write(text: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens the file (or takes stdout) before the command does its work: a path that cannot be
 * written is one line at once, not after a listing of the whole bucket.
 */
export async function lineOutput(file: string | undefined): Promise<LineOutput> {
  const stream = file === undefined ? process.stdout : createWriteStream(file);
  let failed: unknown;
  const failure = new Promise<never>((_, reject) =>
    stream.once('error', (error: unknown) => {
      failed = error;
      reject(error);
    }),
  );
  failure.catch(() => undefined);
  const readerGone = (error: unknown): boolean => file === undefined && errorCode(error) === 'EPIPE';
  const describe = (error: unknown): UserError => {
    return new UserError(`cannot write ${file ?? 'to stdout'} (${errorCode(error) ?? String(error)}): check the path and its permissions`, 'cli.output');
  };
  if (file !== undefined) await Promise.race([once(stream, 'open'), failure]).catch((error: unknown) => Promise.reject(describe(error)));
  return {
    async write(text) {
      if (failed !== undefined) {
        if (readerGone(failed)) return false;
        throw describe(failed);
      }
      if (stream.write(text)) return true;
      return Promise.race([once(stream, 'drain'), failure]).then(
        () => true,
        (error: unknown) => (readerGone(error) ? false : Promise.reject(describe(error))),
      );
    },
    async close() {
      if (file === undefined) return;
      // end() calls back with the error when the last writes fail: the file is then not whole.
      const ended = new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
      await Promise.race([ended, failure]).catch((error: unknown) => Promise.reject(describe(error)));
    },
  };
}

/** The format an --output file's name asks for (`.csv`; `.jsonl` or `.json`: JSON lines), when --format does not say. */
export function formatOfFile(file: string | undefined): 'csv' | 'jsonl' | undefined {
  if (file?.endsWith('.csv') === true) return 'csv';
  if (file?.endsWith('.jsonl') === true || file?.endsWith('.json') === true) return 'jsonl';
  return undefined;
}

export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
