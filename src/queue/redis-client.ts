import { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import { redactUrl } from '../log.js';

/** How long the first connection may take before the command gives up with one line. */
const connectTimeoutMs = 5000;
/** How long a goodbye (QUIT) may wait for a Redis that stopped answering before the connection is dropped. */
const quitTimeoutMs = 2000;

/**
 * A connected ioredis client for our own keys (counters, failures, heartbeats).
 * Fails fast, as one line, when Redis cannot be reached at start; once connected,
 * it reconnects on its own and commands wait for it (a Redis restart mid-run
 * pauses the counters instead of losing them). Readers that must not wait
 * without end bound their reads with `answerWithin`.
 */
export async function connectRedis(url: string): Promise<Redis> {
  let lastError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 500, 5000),
  });
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    // connectTimeout covers the TCP handshake only: a frozen Redis (stopped, swapping) completes that
    // through its kernel and then never answers the ready check.
    await answerWithin(
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      connectTimeoutMs,
      () => new Error(`no reply within ${connectTimeoutMs / 1000} s`),
    );
  } catch (error) {
    client.disconnect();
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw authenticationProblem(url, reason) ??
      new UserError(
        `cannot reach the queue's Redis at ${redactUrl(url)}: ${reason}; start Redis there, or point --queue (or [queue] url, or MASTODON_S3_SYNC_QUEUE_URL) at the Redis the run uses`,
        'queue.unreachable',
      );
  }
  // ioredis selects the URL's database as it connects, but when the server has no such database it
  // only emits an error and goes on in database 0, where the run's tasks would land unnoticed.
  const { db } = client.options;
  if (db !== undefined && db !== 0) {
    try {
      await client.select(db);
    } catch (error) {
      client.disconnect();
      throw new UserError(
        `the queue's Redis at ${redactUrl(url)} has no database ${db} (${error instanceof Error ? error.message : String(error)}): correct the number after the last / in the URL`,
        'queue.no-database',
      );
    }
  }
  return client;
}

/**
 * A Redis that answered but would not let us in: its fix is the password in the URL, not starting
 * Redis. WRONGPASS: a wrong password (or user); NOAUTH: none given to a Redis with requirepass.
 */
function authenticationProblem(url: string, reason: string): UserError | undefined {
  const refusal = /^(WRONGPASS|NOAUTH)\b/.exec(reason)?.[1];
  if (refusal === undefined) return undefined;
  const problem = refusal === 'WRONGPASS' ? 'refused the password in the URL' : 'wants a password';
  return new UserError(
    `the queue's Redis at ${redactUrl(url)} ${problem} (${refusal}): write Redis's password (its requirepass) in the URL, redis://:PASSWORD@HOST:6379, percent-encoding # / @ as %23 %2F %40`,
    'queue.auth',
  );
}

/**
 * `work`'s result, or the error `late()` makes once `ms` have passed without it. The client waits
 * for a Redis that went away rather than fail, so a reader that answers a person (status, the
 * dashboard) bounds its reads with this. What Redis answers later is simply dropped.
 */
export async function answerWithin<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The line for a Redis that answered at first and then stopped, `then` saying what happens next. */
export function redisStoppedAnswering(url: string, waitedMs: number, then: string): UserError {
  return new UserError(
    `Redis at ${redactUrl(url)} stopped answering (no reply within ${waitedMs / 1000} s): check that Redis is running and reachable from this machine${then}`,
    'queue.unresponsive',
  );
}

/**
 * Closes a client without waiting forever for a Redis that went away: QUIT while connected, for
 * at most 2 s; a client that is not connected (Redis gone, reconnecting) is dropped at once, since
 * its QUIT would only queue behind the commands waiting for Redis.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  await answerWithin(client.quit(), quitTimeoutMs, () => new Error('no reply to QUIT')).catch(() => client.disconnect());
}
