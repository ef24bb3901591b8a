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

/** One bar a job on a terminal. */
export class ProgressBars implements Display {
  readonly #bars: cliProgress.MultiBar;
  readonly #jobBars = new Map<string, cliProgress.SingleBar>();
  #timer: NodeJS.Timeout | undefined;
  readonly logSink = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      this.#bars.log(chunk.toString());
      callback();
    },
  });

  constructor(library: typeof cliProgress) {
    this.#bars = new library.MultiBar(
      {
        stream: process.stderr,
        format: '{job} |{bar}| {percentage}% {value}/{total} objects | {copied} copied {skipped} skipped {missing} missing {failed} failed | {moved} {rate}/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      library.Presets.shades_classic,
    );
  }

  attach(stats: RunStats): void {
    const refresh = (): void => {
      for (const counters of stats.jobs()) {
        const payload = {
          job: counters.job.padEnd(22),
          copied: counters.copied,
          skipped: counters.skipped,
          missing: counters.missing,
          failed: counters.failed,
          moved: formatBytes(counters.bytes),
          rate: formatBytes(rate(counters)),
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
    this.#timer = setInterval(refresh, 200);
    stats.on('job', refresh);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#bars.stop();
  }
}

/** A log line a job every few seconds, for logs and pipes. */
export class ProgressLines implements Display {
  readonly logSink = process.stderr;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 5000) {}

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
          `${counters.job}: ${objectsDone(counters)}/${expectedKeys(counters)} objects, ${formatBytes(counters.bytes)} at ${formatBytes(rate(counters))}/s`,
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

export async function createDisplay(interactive: boolean): Promise<Display> {
  if (!interactive) return new ProgressLines();
  // Only a terminal shows bars: logs, pipes and --json runs never load cli-progress.
  const { default: library } = await import('cli-progress');
  return new ProgressBars(library);
}
