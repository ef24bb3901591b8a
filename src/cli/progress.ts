import { Writable } from 'node:stream';
import type cliProgress from 'cli-progress';
import type { Logger } from '../log.js';
import { expectedKeys, objectsDone, type JobCounters, type RunStats } from '../stats/run-stats.js';
import { formatBytes } from './format.js';

interface Display {
  /** Where log lines go while the display is up, so that they do not tear the bars. */
  readonly logSink: NodeJS.WritableStream;
  attach(stats: RunStats, log: Logger): void;
  stop(): void;
}

interface BarPayload {
  /** The job's name, padded to the longest of the run so that the bars line up. */
  job: string;
  outcomes: string;
  /** Bytes and rate; absent in a dry run, which moves nothing. */
  moved: string | undefined;
}

/**
 * One bar a job on a terminal. Each line is fitted to the terminal's width (80 columns when it
 * does not say): the counts always show, the ETA and the rate while they fit, and the bar only
 * where there is room beside them, so a narrow terminal never cuts the counts off.
 */
export class ProgressBars implements Display {
  readonly #bars: cliProgress.MultiBar;
  readonly #jobBars = new Map<string, cliProgress.SingleBar>();
  readonly #dryRun: boolean;
  /** Draws the last counts and stops following the run. */
  #detach: (() => void) | undefined;
  readonly logSink = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      this.#bars.log(chunk.toString());
      callback();
    },
  });

  constructor(library: typeof cliProgress, dryRun: boolean) {
    this.#dryRun = dryRun;
    const { BarFormat, TimeFormat } = library.Format;
    this.#bars = new library.MultiBar(
      {
        stream: process.stderr,
        format: (options, params, payload: BarPayload) => {
          const finished = params.value >= params.total;
          return fittedBarLine(params.maxWidth, payload.job, `${Math.floor(params.progress * 100)}% ${params.value}/${params.total} | ${payload.outcomes}`, [
            finished || !Number.isFinite(params.eta) ? undefined : `ETA ${TimeFormat(params.eta, options, 5)}`,
            payload.moved,
          ], (size) => BarFormat(params.progress, { ...options, barsize: size }));
        },
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      library.Presets.shades_classic,
    );
  }

  attach(stats: RunStats): void {
    const refresh = (): void => {
      const jobs = stats.jobs();
      const nameWidth = Math.max(...jobs.map((counters) => counters.job.length));
      for (const counters of jobs) {
        const payload: BarPayload = {
          job: counters.job.padEnd(nameWidth),
          outcomes: outcomeCounts(counters, this.#dryRun),
          // A dry run's bytes are what a real run would copy, and a rate of them would read as a transfer speed.
          moved: this.#dryRun ? undefined : `${formatBytes(counters.bytes)} at ${formatBytes(rate(counters))}/s`,
        };
        let bar = this.#jobBars.get(counters.job);
        if (bar === undefined) {
          bar = this.#bars.create(Math.max(1, expectedKeys(counters)), 0, payload);
          this.#jobBars.set(counters.job, bar);
        }
        bar.setTotal(Math.max(1, expectedKeys(counters), objectsDone(counters)));
        bar.update(objectsDone(counters), payload);
      }
    };
    // Attached once the storages have passed their checks: the jobs read meanwhile are drawn at once.
    refresh();
    const timer = setInterval(refresh, 200);
    stats.on('job', refresh);
    this.#detach = () => {
      clearInterval(timer);
      stats.off('job', refresh);
      // The bars left on screen are the run's last word: drawn from the final counts, not the last tick's.
      refresh();
    };
  }

  stop(): void {
    this.#detach?.();
    this.#bars.stop();
  }
}

/** `5 copied, 1 missing`: what a job's objects came to, the counts that are zero left out (but copied). */
function outcomeCounts(counters: JobCounters, dryRun: boolean): string {
  const parts = [dryRun ? `${counters.copied} would copy (${formatBytes(counters.bytes)})` : `${counters.copied} copied`];
  for (const [count, label] of [
    [counters.skipped, 'skipped'],
    [counters.missing, 'missing'],
    [counters.failed, 'failed'],
  ] as const) {
    if (count > 0) parts.push(`${count} ${label}`);
  }
  return parts.join(', ');
}

const barWidth = { least: 10, most: 40 };
/** Room kept beside a bar for the counts and the ETA: `67% 1480/2223 | 1470 copied, 10 failed | ETA 12s`. */
const typicalTextWidth = 48;

/**
 * `name |bar| essentials | optional…` in fewer than `width` columns, the optional parts in the
 * order given while they fit. Every line of a terminal gets the same bar, so that the bars line
 * up, and none when the terminal is too narrow for one beside the counts.
 */
function fittedBarLine(width: number, name: string, essentials: string, optional: readonly (string | undefined)[], bar: (size: number) => string): string {
  // One column spare: a line that fills the last column wraps on some terminals.
  const room = width - 1;
  const fitting = Math.min(barWidth.most, room - name.length - 4 - typicalTextWidth);
  const size = fitting >= barWidth.least ? fitting : 0;
  const head = size > 0 ? `${name} |${bar(size)}| ` : `${name} `;
  let text = essentials;
  for (const part of optional) {
    if (part !== undefined && head.length + text.length + 3 + part.length <= room) text += ` | ${part}`;
  }
  return head + text;
}

/** A log line a job every few seconds, for logs and pipes. */
export class ProgressLines implements Display {
  readonly logSink = process.stderr;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dryRun: boolean,
    private readonly intervalMs = 5000,
  ) {}

  attach(stats: RunStats, log: Logger): void {
    this.#timer = setInterval(() => {
      for (const counters of stats.jobs()) {
        if (counters.finishedAt !== undefined) continue;
        log.info(
          {
            job: counters.job,
            done: objectsDone(counters),
            expected: expectedKeys(counters),
            copied: counters.copied,
            skipped: counters.skipped,
            missing: counters.missing,
            failed: counters.failed,
            bytes: counters.bytes,
            bytesPerSecond: Math.round(rate(counters)),
          },
          `${counters.job}: ${objectsDone(counters)}/${expectedKeys(counters)} objects, ` +
            (this.dryRun ? `${counters.copied} would copy (${formatBytes(counters.bytes)})` : `${formatBytes(counters.bytes)} at ${formatBytes(rate(counters))}/s`),
        );
      }
    }, this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function rate(counters: JobCounters): number {
  const seconds = ((counters.finishedAt ?? Date.now()) - counters.startedAt) / 1000;
  return seconds > 0 ? counters.bytes / seconds : 0;
}

export async function createDisplay(interactive: boolean, dryRun: boolean): Promise<Display> {
  if (!interactive) return new ProgressLines(dryRun);
  // Only a terminal shows bars: logs, pipes and --json runs never load cli-progress.
  const { default: library } = await import('cli-progress');
  return new ProgressBars(library, dryRun);
}
