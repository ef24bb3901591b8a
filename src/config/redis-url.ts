// Apart from schema.ts (zod), so that --queue's parser keeps the CLI's start-up light.

/**
 * redis:// or rediss://, with at most a database number for its path: ioredis reads
 * redis://host/abc as database NaN, and the first command crashes the process.
 */
export function isRedisUrl(value: string): boolean {
  if (!/^rediss?:\/\/./.test(value)) return false;
  try {
    return /^\/?\d*$/.test(new URL(value).pathname);
  } catch {
    return false;
  }
}

export const redisUrlExample = 'redis://10.0.0.1:6379 (or redis://10.0.0.1:6379/2 for database 2)';
