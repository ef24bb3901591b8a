import { errorCode } from './errors.js';

/**
 * Whether a process of this host (and pid namespace) may still be running. Signal 0 only asks:
 * ESRCH is the one answer that proves it gone; EPERM is a live process of another user, and any
 * other failure proves nothing. Callers remove what a dead process left (its partial files, its
 * multipart uploads), so a process counts as alive unless it is proved gone.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}
