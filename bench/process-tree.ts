/**
 * Measures a child process the way `top` would see it: resident memory of the whole process
 * tree (the process and every descendant), sampled every `intervalMs` from /proc, and CPU
 * time (user + system) of the tree.
 */
import { readFileSync, readdirSync } from 'node:fs';

const pageSize = 4096;
const clockTicks = 100;

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const task of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ')) if (child.trim() !== '') children.push(Number(child));
    } catch {
      // the task ended meanwhile
    }
  }
  return children;
}

/** The pid and all its descendants alive now. */
export function processTree(pid: number): number[] {
  const all: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    all.push(next);
    queue.push(...childrenOf(next));
  }
  return all;
}

/** Resident bytes of one process, or 0 when it is gone. */
export function residentBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * pageSize;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds one process has used so far, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

export interface TreeSample {
  /** Milliseconds since sampling started. */
  t: number;
  rss: number;
}

export class TreeSampler {
  readonly samples: TreeSample[] = [];
  peak = 0;
  readonly #cpu = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #started = performance.now();

  constructor(
    readonly pid: number,
    intervalMs = 50,
  ) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    let rss = 0;
    for (const pid of processTree(this.pid)) {
      rss += residentBytes(pid);
      const cpu = cpuSeconds(pid);
      if (cpu !== undefined) this.#cpu.set(pid, cpu);
    }
    if (rss === 0) return;
    this.samples.push({ t: performance.now() - this.#started, rss });
    this.peak = Math.max(this.peak, rss);
  }

  /** CPU seconds of every process seen in the tree, as of its last sample (the last 50 ms may be missing). */
  cpuSeconds(): number {
    let sum = 0;
    for (const cpu of this.#cpu.values()) sum += cpu;
    return sum;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** CPU seconds all processes on the machine have used since boot (every core summed), from /proc/stat. */
export function systemBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[5] ?? 0) + (fields[6] ?? 0) + (fields[7] ?? 0);
  return busy / clockTicks;
}

/**
 * Waits until the machine is quiet: the processes outside `ownPids`' trees use less than
 * `maxCores` cores over a 2-second window. Gives up after `timeoutMs`.
 * Returns the background load (in cores) seen last.
 */
export async function waitForQuiet(ownPids: () => number[], options: { maxCores: number; timeoutMs: number; onWait?: (cores: number) => void }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const own = (): number => ownPids().flatMap(processTree).reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
    const busyBefore = systemBusySeconds();
    const ownBefore = own();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const cores = Math.max(0, (systemBusySeconds() - busyBefore - (own() - ownBefore)) / 2);
    if (cores <= options.maxCores || Date.now() >= deadline) return cores;
    options.onWait?.(cores);
  }
}
