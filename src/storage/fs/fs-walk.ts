import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAbsentPath, partialFilePrefix } from './fs-keys.js';

export interface WalkedFile {
  /** '/'-separated path relative to the walk's base. */
  key: string;
  size: number;
}

export interface WalkOptions {
  /** Hears of each temporary file of an unfinished write (`.mss-partial-*`) the walk passes, by its path. */
  onPartial?: (file: string) => Promise<void>;
}

/**
 * Every regular file below `directory`, depth first, one directory handle open
 * at a time. Symbolic links are followed (admins link parts of public/system to
 * other disks), with a guard against directory loops. Unfinished writes
 * (`.mss-partial-*`) are not yielded. A missing start directory yields nothing.
 */
export async function* walkFiles(directory: string, relative: string, options: WalkOptions = {}, visited = new Set<string>()): AsyncGenerator<WalkedFile> {
  let identity: string;
  try {
    const info = await stat(directory);
    if (!info.isDirectory()) return;
    identity = `${info.dev}:${info.ino}`;
  } catch (error) {
    if (isAbsentPath(error)) return;
    throw error;
  }
  if (visited.has(identity)) return;
  visited.add(identity);

  const subdirectories: string[] = [];
  const partials: string[] = [];
  for await (const entry of await opendir(directory)) {
    if (entry.name.startsWith(partialFilePrefix)) {
      partials.push(entry.name);
      continue;
    }
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      subdirectories.push(entry.name);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const info = await stat(full).catch((error: unknown) => (isAbsentPath(error) ? undefined : Promise.reject(error)));
      if (info?.isFile() === true) yield { key: relative + entry.name, size: info.size };
      else if (info?.isDirectory() === true) subdirectories.push(entry.name);
    }
  }
  if (options.onPartial !== undefined) for (const name of partials) await options.onPartial(path.join(directory, name));
  // Descend only after the handle is closed, so deep trees do not pile up open directories.
  for (const name of subdirectories) yield* walkFiles(path.join(directory, name), `${relative}${name}/`, options, visited);
}
