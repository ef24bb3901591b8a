import { counted } from '../log.js';
/**
 * The line for a run whose [source] held none of the objects the rows reference. An instance
 * loses a file now and then, not all of them: a wrong bucket, prefix or directory is far likelier,
 * and without this line a sync would just count every key missing and a verify would pass.
 */
export function emptySourceHint(source: string, keys: number): string {
  return `[source] ${source} holds none of the ${counted(keys, 'object')} the database references: check its bucket and prefix (Mastodon's S3_KEY_PREFIX), or its path`;
}
