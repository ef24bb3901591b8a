import path from 'node:path';
import type { StorageSection } from '../config/schema.js';
import { counted } from '../log.js';
import { mediaRootBelow } from '../storage/fs/fs-check.js';

/**
 * The line for a run whose [source] held none of the objects the rows reference. An instance
 * loses a file now and then, not all of them: a wrong bucket, prefix or directory (or its disk not
 * mounted) is far likelier, and without this line a sync would settle every key as missing and a
 * verify would pass.
 */
export async function emptySourceHint(section: StorageSection, description: string, keys: number): Promise<string> {
  // A directory holding nothing is also what a mount point looks like while its disk is not mounted.
  return `[source] ${description} holds none of the ${counted(keys, 'object')} the database references: ${await whatToCorrect(section, ' and its disk mounted')}`;
}

/** The line for `orphans` on a storage none of whose objects lies where Mastodon puts media: the same mistakes, seen from the listing. */
export async function unshapedStorageHint(name: 'source' | 'destination', section: StorageSection, description: string, objects: number): Promise<string> {
  return `[${name}] ${description}: none of its ${counted(objects, 'object')} is where Mastodon puts media: ${await whatToCorrect(section)}`;
}

/**
 * A directory one level too high (`public`, or the rails root) is the commonest: the media root below it is named.
 * `directoryToo` is what else a directory must be, said after its path.
 */
async function whatToCorrect(section: StorageSection, directoryToo = ''): Promise<string> {
  if (section.type === 's3') return "check its bucket and prefix (Mastodon's S3_KEY_PREFIX)";
  const below = await mediaRootBelow(path.resolve(section.path, section.prefix ?? ''));
  return `"path" must be Mastodon's public/system (PAPERCLIP_ROOT_PATH)${directoryToo}${below === undefined ? '' : `; did you mean ${below}?`}`;
}
