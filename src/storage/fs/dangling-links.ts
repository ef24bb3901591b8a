import { lstat, opendir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { partialFilePrefix } from './fs-keys.js';
import { errorCode } from '../../errors.js';

/**
 * A symbolic link whose target does not exist: most often a folder of public/system moved to
 * another disk that is not mounted. Reads through it find nothing and writes fail, so every
 * object below it would be counted missing (and a re-run would trust that) or fail one by one.
 */
export interface DanglingLink {
  link: string;
  target: string;
}

/** What the link is, as every message about it says it. */
export function describeDanglingLink({ link, target }: DanglingLink): string {
  return `${link} is a symbolic link to ${target}, which does not exist (is its disk mounted?)`;
}

/** The first component of the absolute path `directory` (itself included) that is a dangling link. */
export async function danglingLinkOnPath(directory: string): Promise<DanglingLink | undefined> {
  let current = path.parse(directory).root;
  for (const part of path.relative(current, directory).split(path.sep)) {
    current = path.join(current, part);
    const info = await lstat(current).catch(() => undefined);
    // A component really missing: the caller's own message says so.
    if (info === undefined) return undefined;
    if (info.isSymbolicLink() && (await isDangling(current))) return { link: current, target: await linkTarget(current) };
  }
  return undefined;
}

/**
 * The first dangling link among the `depth` levels below `directory`: with 3, down to
 * `cache/<class>/<attachment>` and the first id-partition folders, where admins link folders to
 * other disks, for a few dozen directory reads however large the tree. Deeper links are followed
 * as they come (fs-walk.ts).
 */
export async function danglingLinkBelow(directory: string, depth = 3): Promise<DanglingLink | undefined> {
  if (depth === 0) return undefined;
  const subdirectories: string[] = [];
  try {
    for await (const entry of await opendir(directory)) {
      if (entry.name.startsWith(partialFilePrefix)) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) subdirectories.push(full);
      else if (entry.isSymbolicLink()) {
        if (await isDangling(full)) return { link: full, target: await linkTarget(full) };
        if ((await stat(full).catch(() => undefined))?.isDirectory() === true) subdirectories.push(full);
      }
    }
  } catch {
    // A folder this user may not read: the storage's check and the listing report it, not this.
    return undefined;
  }
  for (const subdirectory of subdirectories) {
    const found = await danglingLinkBelow(subdirectory, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function isDangling(link: string): Promise<boolean> {
  return stat(link).then(
    () => false,
    (error: unknown) => errorCode(error) === 'ENOENT',
  );
}

async function linkTarget(link: string): Promise<string> {
  return path.resolve(path.dirname(link), await readlink(link));
}
