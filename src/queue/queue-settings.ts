/** Where the queue lives: `[queue] url` / `--queue`, and `[queue] prefix`. */
export interface QueueSettings {
  /** `redis://[:password@]host:port[/db]` or `rediss://` (TLS). */
  url: string;
  /**
   * Namespace of every key the queue and its counters use, so that several
   * migrations can share one Redis.
   * @defaultValue 'mastodon-s3-sync'
   */
  prefix: string;
}

/** The BullMQ queue every copy task goes through (its keys are `<prefix>:copy:*`). */
export const copyQueueName = 'copy';

/** BullMQ's connection options for `url`; BullMQ adds what its blocking worker connection needs. */
export function bullConnection(settings: QueueSettings): { url: string } {
  return { url: settings.url };
}
