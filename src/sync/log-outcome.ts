import type { Logger } from '../log.js';
import type { ObjectEvent } from '../stats/run-stats.js';

/** One object's outcome in the log, the same for an in-process run and a queue worker. */
export function logOutcome(log: Logger, event: ObjectEvent, dryRun = false): void {
  const { job, key } = event;
  if (event.outcome === 'failed') log.error({ job, key, reason: event.reason }, 'copy failed');
  else if (event.outcome === 'missing') log.warn({ job, key, reason: event.reason }, 'original missing in source');
  else if (event.outcome === 'absent-style') log.debug({ job, key }, 'derived style absent in source');
  else if (event.foundAt !== undefined) log.info({ job, key, foundAt: event.foundAt }, `found under the other cache/ variant; ${dryRun ? 'would be written' : 'written'} where Mastodon expects it`);
}
