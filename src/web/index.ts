/** The dashboard's public surface, for the CLI's `--ui` and the Redis-mode `ui` command. */
export { startDashboard, defaultDashboardHost, defaultDashboardPort, type Dashboard, type DashboardOptions } from './dashboard-server.js';
export type { DashboardChange, DashboardSource, FailureRecord } from './dashboard-source.js';
export { runStatsSource, type RunStatsSource } from './run-stats-source.js';
export { LogTail, teeToLogTail, type LogLine } from './log-tail.js';
export { SyncMetrics } from './metrics.js';
export { isLoopbackHost } from './access.js';
export type { JobView } from './job-view.js';
