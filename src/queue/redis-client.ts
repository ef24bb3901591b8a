import { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import { redactUrl } from '../log.js';

/** How long the first connection may take before the command gives up with one line. */
const connectTimeoutMs = 5000;

/**
 * A connected ioredis client for our own keys (counters, failures, heartbeats).
 * Fails fast, as one line, when Redis cannot be reached at start; once connected,
 * it reconnects on its own and commands wait for it (a Redis restart mid-run
 * pauses the counters instead of losing them).
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
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new UserError(
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

/** Closes a client without waiting forever for a Redis that went away. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const quit = client.quit().catch(() => undefined);
  const timer = setTimeout(() => client.disconnect(), 2000);
  await quit;
  clearTimeout(timer);
}
