import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { RunStats } from '../stats/run-stats.js';
import { assertSafeBinding } from '../web/access.js';
import type { Dashboard } from '../web/index.js';
import { LogTail, teeToLogTail } from '../web/log-tail.js';

interface DashboardSettings {
  host: string;
  port: number;
  token: string | undefined;
  dryRun: boolean;
}

export interface DashboardFlags {
  ui?: boolean;
  uiHost?: string;
  uiPort?: number;
  uiToken?: string;
  /** Keep serving after the run until Ctrl-C, as the original tool's Flower did. */
  uiLinger?: boolean;
  dryRun?: boolean;
}

/** The flags that only shape the dashboard, with how the admin spells them. */
const dashboardOnlyFlags = [
  ['uiHost', '--ui-host'],
  ['uiPort', '--ui-port'],
  ['uiToken', '--ui-token'],
  ['uiLinger', '--ui-linger'],
] as const;

/** Without --ui the dashboard's own flags would serve nothing: refused, so that the admin who meant a dashboard learns it at once. */
export function refuseDashboardFlagsWithoutUi(flags: DashboardFlags): void {
  if (flags.ui === true) return;
  const given = dashboardOnlyFlags.find(([name]) => flags[name] !== undefined)?.[1];
  if (given !== undefined) throw new UserError(`${given} does nothing without --ui: add --ui to serve the dashboard, or leave ${given} out`, 'cli.usage');
}

/** The dashboard of an in-process run, when --ui asks for it: it watches `stats` and a tail of the log. */
export class RunDashboard {
  readonly #logTail = new LogTail();
  readonly #settings: DashboardSettings | undefined;
  #dashboard: Dashboard | undefined;

  private constructor(settings: DashboardSettings | undefined) {
    this.#settings = settings;
  }

  /**
   * A dashboard that would listen where other machines can reach it without a token is refused
   * here, before the run opens anything: one line, not a run that fails after its checks.
   */
  static for(flags: DashboardFlags, config: Config): RunDashboard {
    if (flags.ui !== true) return new RunDashboard(undefined);
    const settings = { host: flags.uiHost ?? config.ui.host, port: flags.uiPort ?? config.ui.port, token: flags.uiToken ?? config.ui.token, dryRun: flags.dryRun === true };
    assertSafeBinding(settings.host, settings.token);
    return new RunDashboard(settings);
  }

  get enabled(): boolean {
    return this.#settings !== undefined;
  }

  /** Where log lines should go: the display's sink, and the tail the page shows. */
  logSink(displaySink: NodeJS.WritableStream): NodeJS.WritableStream {
    return this.enabled ? teeToLogTail(displaySink, this.#logTail) : displaySink;
  }

  async start(stats: RunStats): Promise<string | undefined> {
    if (this.#settings === undefined) return undefined;
    // fastify and prom-client (30 MiB) are loaded only when the dashboard is asked for.
    const { runStatsSource, startDashboard } = await import('../web/index.js');
    this.#dashboard = await startDashboard({ source: runStatsSource(stats), logTail: this.#logTail, ...this.#settings });
    return this.#dashboard.url;
  }

  async close(): Promise<void> {
    await this.#dashboard?.close();
  }
}
