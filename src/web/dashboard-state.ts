import type { DashboardSource, FailureRecord } from './dashboard-source.js';
import { jobView, type JobView } from './job-view.js';
import type { LogLine, LogTail } from './log-tail.js';
import { ThroughputHistory, type ThroughputSample } from './throughput-history.js';

/** What one page has already received, so that later pushes carry only new log lines and samples. */
export interface Cursor {
  logSeq: number;
  sampleSeq: number;
}

/** One push to the page. */
export interface Snapshot {
  /** The first push of a connection: the page replaces what it had instead of appending. */
  full: boolean;
  time: number;
  jobs: JobView[];
  failures: FailureRecord[];
  logs: LogLine[];
  samples: ThroughputSample[];
}

/** Failures each push carries; the page lists them, /api/failures gives more. */
const pushedFailures = 25;
/** Log lines a page gets when it connects. */
const initialLogLines = 200;

/** Everything the dashboard shows, read from the source and kept between pushes (chart samples). */
export class DashboardState {
  readonly history = new ThroughputHistory();

  constructor(
    readonly source: DashboardSource,
    readonly logTail: LogTail | undefined,
  ) {}

  async jobs(now = Date.now()): Promise<JobView[]> {
    return (await this.source.jobs()).map((counters) => jobView(counters, now));
  }

  /** Takes one reading of the counters for the throughput charts; called once a second. */
  async sample(now = Date.now()): Promise<void> {
    this.history.record(await this.source.jobs(), now);
  }

  /** The parts every page gets alike, read once a push whatever the number of pages. */
  async shared(now = Date.now()): Promise<Pick<Snapshot, 'time' | 'jobs' | 'failures'>> {
    const [jobs, failures] = await Promise.all([this.jobs(now), this.source.failures({ limit: pushedFailures })]);
    return { time: now, jobs, failures: [...failures] };
  }

  /** The log lines and samples a page has not seen; `cursor` undefined for a page that just connected. */
  news(cursor: Cursor | undefined): { logs: LogLine[]; samples: ThroughputSample[]; cursor: Cursor } {
    const logs = this.logTail === undefined ? [] : cursor === undefined ? this.logTail.lines(initialLogLines) : this.logTail.since(cursor.logSeq);
    const samples = this.history.since(cursor?.sampleSeq ?? 0);
    return {
      logs,
      samples,
      cursor: { logSeq: this.logTail?.lastSeq ?? 0, sampleSeq: this.history.lastSeq },
    };
  }
}
