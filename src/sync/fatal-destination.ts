import type { ObjectEvent } from '../stats/run-stats.js';

/**
 * Failures that every further write would repeat (a full disk, a read-only
 * mount, a directory this user may not write, a folder linked to a disk not
 * mounted): `sync` and each `worker` stop at the first, with one line,
 * instead of failing every object the same way.
 */
const fatalDestinationCodes: ReadonlySet<string> = new Set(['storage.disk-full', 'storage.read-only', 'storage.permission-denied', 'storage.dangling-link']);

export function isFatalDestinationFailure(event: ObjectEvent): boolean {
  return event.outcome === 'failed' && event.code !== undefined && fatalDestinationCodes.has(event.code);
}

/** What the user does about such a failure, for the line that stops the run. */
export function fatalDestinationFix(event: ObjectEvent): string {
  switch (event.code) {
    case 'storage.disk-full':
      return 'free some space';
    case 'storage.permission-denied':
      return 'fix the ownership or permissions of that directory (chown/chmod) for the user running mastodon-s3-sync';
    case 'storage.dangling-link':
      return 'mount its disk or create its target, or remove the link';
    default:
      return 'make the destination writable';
  }
}
