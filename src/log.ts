import type { Logger } from 'pino';

export type { Logger };

/** Log fields that may carry a credential; pino replaces them before anything is written. */
const redactedPaths = [
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'secretAccessKey',
  '*.secretAccessKey',
  'secret_access_key',
  '*.secret_access_key',
  'accessKeyId',
  '*.accessKeyId',
  'url',
  '*.url',
  'token',
  '*.token',
];

export interface LogOptions {
  /** JSON lines (pino's own format) instead of human-readable lines. */
  json: boolean;
  level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Where lines go; stderr by default so that stdout stays for command output such as `keys`. */
  destination?: NodeJS.WritableStream;
}

/**
 * Async because pino (and pino-pretty, 10 MiB, only for human-readable lines) load when a command
 * first logs: `--help`, and what only needs `redactUrl`, never load them.
 */
export async function createLogger(options: LogOptions): Promise<Logger> {
  const destination = options.destination ?? process.stderr;
  const stream = options.json
    ? destination
    : (await import('pino-pretty')).default({
        destination,
        sync: true,
        colorize: destination === process.stderr && process.stderr.isTTY === true,
        ignore: 'pid,hostname',
        translateTime: 'SYS:HH:MM:ss',
      });
  const { pino } = await import('pino');
  return pino({ level: options.level, redact: { paths: redactedPaths, censor: '[redacted]' } }, stream);
}

/** Removes the password from a connection URL so that it can be shown. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '[unparseable url]';
  }
}

/** `1 object`, `2 objects`: a count for a message, its noun agreeing with it. */
export function counted(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}
