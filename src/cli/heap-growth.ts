import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 may grow the old generation past its live size before a full collection, as
 * `--heap-growing-percent` (150: to 2.5×). Left to itself V8 picks 1.1× to 4× from its own
 * speed measurements; a copy allocates about 110 KB of short-lived heap per object, so at 64
 * transfers identical runs peaked anywhere from 176 to 214 MiB. With the cap they peaked at
 * 161–177 MiB for the same CPU within noise; at 100 (2×) V8 collects every few hundred
 * milliseconds and the CPU goes up by half (bench/analysis.md).
 */
const copyHeapGrowingPercent = 150;

/** The V8 flag for a copying command, or undefined when the admin set their own on the command line. */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  if (execArgv.some((argument) => /^--heap[-_]growing[-_]percent\b/.test(argument))) return undefined;
  return `--heap-growing-percent=${copyHeapGrowingPercent}`;
}

/** For commands that copy (sync, worker): bounds the heap's growth; read by V8 at every collection. */
export function boundHeapGrowthForCopying(): void {
  const flag = heapGrowthFlag(process.execArgv);
  if (flag !== undefined) setFlagsFromString(flag);
}
