import type { Config } from '../config/schema.js';
import type { RunStats } from '../stats/run-stats.js';
import type { Dashboard } from '../web/index.js';
import { LogTail, teeToLogTail } from '../web/log-tail.js';

export interface DashboardFlags {
  ui?: boolean;
  uiHost?: string;
  uiPort?: number;
  uiToken?: string;
  /** Keep serving after the run until Ctrl-C, as the original tool's Flower did. */
  uiLinger?: boolean;
}

/** The dashboard of an in-process run, when --ui asks for it: it watches `stats` and a tail of the log. */
export class RunDashboard {
  readonly #logTail = new LogTail();
  #dashboard: Dashboard | undefined;

  private constructor(readonly enabled: boolean) {}

  static for(flags: DashboardFlags): RunDashboard {
    return new RunDashboard(flags.ui === true);
  }

  /** Where log lines should go: the display's sink, and the tail the page shows. */
  logSink(displaySink: NodeJS.WritableStream): NodeJS.WritableStream {
    return this.enabled ? teeToLogTail(displaySink, this.#logTail) : displaySink;
  }

  async start(flags: DashboardFlags, config: Config, stats: RunStats): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    // fastify and prom-client (30 MiB) are loaded only when the dashboard is asked for.
    const { runStatsSource, startDashboard } = await import('../web/index.js');
    this.#dashboard = await startDashboard({
      source: runStatsSource(stats),
      logTail: this.#logTail,
      host: flags.uiHost ?? config.ui.host,
      port: flags.uiPort ?? config.ui.port,
      token: flags.uiToken ?? config.ui.token,
    });
    return this.#dashboard.url;
  }

  async close(): Promise<void> {
    await this.#dashboard?.close();
  }
}
