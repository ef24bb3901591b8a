/** The dashboard's public surface, for the CLI's `--ui` and the Redis-mode `ui` command. */
export { startDashboard, type Dashboard } from './dashboard-server.js';
export { runStatsSource } from './run-stats-source.js';
