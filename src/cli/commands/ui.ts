import { loadQueueViewConfig } from '../../config/load-config.js';
import { ExitCode } from '../../errors.js';
import { createLogger } from '../../log.js';
import { readOnlyQueue } from '../../queue/queue-inspector.js';
import { closeRedis, connectRedis } from '../../queue/redis-client.js';
import { redisDashboardSource } from '../../queue/redis-dashboard-source.js';
import { RedisRunStatus } from '../../queue/redis-run-status.js';
import { queueBoardMount, queueBoardPath } from '../../web/queue-board.js';
import { startDashboard } from '../../web/index.js';
import type { CommonOptions } from '../context.js';
import { queueSettings, type QueueFlags } from '../queue-options.js';
import type { DashboardFlags } from '../run-dashboard.js';
import { untilSignal } from '../until-signal.js';

export interface UiCommandOptions extends Pick<CommonOptions, 'config' | 'json'>, QueueFlags, Omit<DashboardFlags, 'ui' | 'uiLinger'> {}

/** The dashboard of a run driven by Redis workers, with bull-board at /queues, until Ctrl-C. */
export async function uiCommand(options: UiCommandOptions): Promise<number> {
  const config = await loadQueueViewConfig({ configPath: options.config }, options.queue);
  const settings = queueSettings(options, config, 'ui');
  const log = await createLogger({ json: options.json === true, level: 'info' });
  const redis = await connectRedis(settings.url);
  const queue = readOnlyQueue(redis, settings.prefix);
  const source = redisDashboardSource(new RedisRunStatus(redis, settings.prefix), {
    url: settings.url,
    onAvailabilityChange: (problem) => (problem === undefined ? log.info('Redis answers again: the dashboard is live') : log.warn(problem.message)),
    onError: (error) => log.warn({ err: error }, 'reading the run from Redis failed; trying again'),
  });
  try {
    const dashboard = await startDashboard({
      source,
      host: options.uiHost ?? config.ui.host,
      port: options.uiPort ?? config.ui.port,
      token: options.uiToken ?? config.ui.token,
      // bull-board's page reads nothing from Redis itself: the PING has it answer 503 too while Redis
      // does not, rather than a page whose every request then fails.
      mountQueueBoard: queueBoardMount(queue, (work) =>
        source.read(async () => {
          await redis.ping();
          return work();
        }),
      ),
    });
    log.info(`dashboard at ${dashboard.url} (queue internals at ${new URL(queueBoardPath, dashboard.url).toString()}); Ctrl-C to quit`);
    await untilSignal();
    await dashboard.close();
    return ExitCode.ok;
  } finally {
    source.close();
    await queue.close();
    await closeRedis(redis);
  }
}
