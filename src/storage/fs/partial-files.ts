import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '../../process-alive.js';
import { partialFilePrefix } from './fs-keys.js';

/*
 * Temporary files of unfinished writes name their writer: `.mss-partial-<host>-<pid>-<pid namespace>-<random>`,
 * so that a later run can tell which ones no live write owns. A pid means something only in its pid namespace:
 * containers that share a host name (`--network host`) and a volume each have their own, and one must not judge
 * the other's pids.
 */

// Cut to Linux's 64-character limit (other systems allow longer): the name stays far below 255 bytes.
const thisHost = hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'unknown';
const thisPidNamespace = pidNamespace();

function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    // Not Linux: one namespace as far as this process can tell.
    return '0';
  }
}

/** A fresh temporary file name for this process. */
export function partialFileName(): string {
  return `${partialFilePrefix}${thisHost}-${process.pid}-${thisPidNamespace}-${randomBytes(6).toString('hex')}`;
}

// Read from the end: a host name may contain '-'. Earlier versions' names (`.mss-partial-<pid>-<random>`) do not match.
const writerPattern = new RegExp(`^${partialFilePrefix.replaceAll('.', '\\.')}(.+)-([1-9]\\d*)-(\\d+)-[0-9a-f]{12}$`);

/**
 * No live write leaves its temporary file untouched this long: one that gets no byte for [sync] timeout_s
 * (at most an hour) fails and removes it. Files no rule can judge (another host's, an earlier version's)
 * are removed only past it.
 */
const untouchedLimitMs = 24 * 60 * 60 * 1000;

export interface RemovedPartial {
  file: string;
  /** Why no live write can own it. */
  reason: string;
}

/**
 * Removes `file`, a temporary file found in a destination directory, when no live write can own it: its
 * writer was a process of this host and pid namespace that is gone, or it has not changed for a day.
 * Resolves with what it removed, or undefined when it left the file as it is.
 */
export async function removeIfAbandoned(file: string): Promise<RemovedPartial | undefined> {
  const reason = await abandonment(file);
  if (reason === undefined) return undefined;
  try {
    await unlink(file);
  } catch {
    // Gone meanwhile (another run removed it) or not ours to remove: left, and the listing goes on.
    return undefined;
  }
  return { file, reason };
}

async function abandonment(file: string): Promise<string | undefined> {
  const info = await lstat(file).catch(() => undefined);
  if (info?.isFile() !== true) return undefined;
  const writer = writerPattern.exec(path.basename(file));
  if (writer !== null && writer[1] === thisHost && writer[3] === thisPidNamespace && !isProcessAlive(Number(writer[2]))) {
    return `process ${writer[2]} on this host is gone`;
  }
  if (Date.now() - info.mtimeMs > untouchedLimitMs) return 'untouched for more than 24 hours';
  return undefined;
}
