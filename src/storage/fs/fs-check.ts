import { constants } from 'node:fs';
import { access, opendir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorCode } from '../../errors.js';
import { danglingLinkBelow, danglingLinkOnPath, describeDanglingLink, type DanglingLink } from './dangling-links.js';
import { makeDirectory } from './make-directory.js';
import { partialFileName } from './partial-files.js';

function errnoOf(error: unknown): string {
  return errorCode(error) ?? 'error';
}

/**
 * `root` must exist and be a directory: a typo in "path" should not silently start an empty tree
 * elsewhere. `ifMissing` is the fix when it does not exist: a directory to write may be made, one
 * to read (the instance's media) was misspelt, and an empty one made in its place would read as
 * every object missing. `ifDangling` is the fix when the path goes through a link to nothing
 * (mkdir -p would fail there with "File exists").
 */
async function requireDirectory(directory: string, ifMissing: string, ifDangling: (link: DanglingLink) => string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(directory)).isDirectory();
  } catch (error) {
    const errno = errnoOf(error);
    const dangling = errno === 'ENOENT' ? await danglingLinkOnPath(directory) : undefined;
    if (dangling !== undefined) throw danglingLinkError(dangling, ifDangling(dangling), 'storage.no-directory');
    if (errno === 'ENOENT' || errno === 'ENOTDIR') {
      throw new UserError(`directory ${directory} does not exist (${errno}): ${ifMissing}`, 'storage.no-directory');
    }
    throw new UserError(`cannot open directory ${directory} (${errno}): check its permissions`, 'storage.not-readable');
  }
  if (!isDirectory) {
    throw new UserError(`${directory} is not a directory: point "path" at the directory that holds the media (Mastodon's public/system)`, 'storage.no-directory');
  }
}

function danglingLinkError(dangling: DanglingLink, fix: string, code: string): UserError {
  return new UserError(`${describeDanglingLink(dangling)}: ${fix}`, code);
}

/** Links to nothing in the tree's top folders: for a source every object below would count as missing, and a re-run would trust that. */
async function refuseDanglingLinks(base: string, fix: (link: DanglingLink) => string): Promise<void> {
  const dangling = await danglingLinkBelow(base);
  if (dangling !== undefined) throw danglingLinkError(dangling, fix(dangling), 'storage.dangling-link');
}

const correctPath = `correct "path" (Mastodon's public/system, PAPERCLIP_ROOT_PATH)`;
const mountOrCorrectPath = (): string => 'mount it, or correct "path"';
const mountOrCreate = (then: string) => ({ target }: DanglingLink): string => `mount it or create ${target}, ${then}`;

export async function checkReadable(root: string, base: string): Promise<void> {
  await requireDirectory(root, correctPath, mountOrCorrectPath);
  await requireDirectory(base, base === root ? correctPath : 'correct "prefix"', mountOrCorrectPath);
  try {
    // access() says yes to root for everything; opening the directory is the real test.
    await access(base, constants.R_OK | constants.X_OK);
    await (await opendir(base)).close();
  } catch (error) {
    throw new UserError(`directory ${base} is not readable (${errnoOf(error)}): fix its permissions for the user running mastodon-s3-sync`, 'storage.not-readable');
  }
  await refuseDanglingLinks(base, () => 'mount it, or remove the link');
}

/** Creates (and removes) a real file: only that proves a read-only mount or a full disk wrong, whoever runs the tool. */
export async function checkWritable(root: string, base: string): Promise<void> {
  await requireDirectory(root, `create it with mkdir -p ${root}, or correct "path"`, mountOrCreate('or correct "path"'));
  const probe = path.join(base, partialFileName());
  try {
    await makeDirectory(base);
    await writeFile(probe, '', { flag: 'wx' });
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOSPC' || errno === 'EDQUOT') {
      throw new UserError(`directory ${base} has no space left (${errno}): free some space or choose another "path"`, 'storage.disk-full');
    }
    throw new UserError(
      `directory ${base} is not writable (${errno}): ${errno === 'EROFS' ? 'remount it read-write' : 'fix its ownership or permissions (chown/chmod) for the user running mastodon-s3-sync'}`,
      'storage.not-writable',
    );
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
  await refuseDanglingLinks(base, mountOrCreate('or remove the link'));
}

/** Where Mastodon's media root would be if `directory` were one or two levels above it (`public`, or the rails root). */
export async function mediaRootBelow(directory: string): Promise<string | undefined> {
  for (const candidate of [path.join(directory, 'system'), path.join(directory, 'public', 'system')]) {
    if ((await stat(candidate).catch(() => undefined))?.isDirectory() === true) return candidate;
  }
  return undefined;
}

export interface ForeignOwner {
  directory: string;
  uid: number;
  gid: number;
}

/**
 * The owner of `directory` when this process is root's and the directory is not: the files and
 * folders a run makes would be root's, not the owner's. Changing their owner is left to the admin.
 */
export async function foreignOwner(directory: string): Promise<ForeignOwner | undefined> {
  if (process.geteuid?.() !== 0) return undefined;
  const { uid, gid } = await stat(directory);
  return uid === 0 ? undefined : { directory, uid, gid };
}
