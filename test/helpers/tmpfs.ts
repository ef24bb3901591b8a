import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/**
 * Real tmpfs mounts (read-only, or a few MB), because root ignores permission bits: the honest way
 * to meet EROFS and ENOSPC. Mounting needs CAP_SYS_ADMIN; without it the test asking skips.
 */
export class TmpfsMounts {
  readonly #targets: string[] = [];

  /** A fresh directory with a tmpfs mounted on it (`options` as for mount -o), or undefined when the test was skipped. */
  async mount(t: TestContext, options: string): Promise<string | undefined> {
    const target = await mkdtemp(path.join(tmpdir(), 'mss-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', target], { stdio: 'pipe' });
    } catch (error) {
      await rm(target, { recursive: true, force: true });
      t.skip(`cannot mount tmpfs here: ${String((error as Error).message).split('\n')[0]}`);
      return undefined;
    }
    this.#targets.push(target);
    return target;
  }

  async unmountAll(): Promise<void> {
    for (const target of this.#targets.splice(0)) {
      execFileSync('umount', [target]);
      await rm(target, { recursive: true, force: true });
    }
  }
}
