import Fastify, { type FastifyInstance } from 'fastify';
import { UserError, errorCode } from '../errors.js';
import { assertSafeBinding, hostHeaderIsLoopback, presentedToken, tokenCookieHeader, tokenMatches } from './access.js';
import type { DashboardSource } from './dashboard-source.js';
import { DashboardState } from './dashboard-state.js';
import { LiveUpdates } from './live-updates.js';
import type { LogTail } from './log-tail.js';
import { SyncMetrics } from './metrics.js';
import { dashboardContentSecurityPolicy, dashboardHtml } from './static/dashboard-page.js';

/** Flower's port: admins of the original tool already have it in their SSH tunnels and firewalls. */
const defaultDashboardPort = 5555;
const defaultDashboardHost = '127.0.0.1';

export interface DashboardOptions {
  source: DashboardSource;
  /** Default 127.0.0.1; any address other machines can reach requires `token`. */
  host?: string;
  /** Default 5555; 0 picks a free port (tests). */
  port?: number;
  /** When set, every route wants `Authorization: Bearer <token>` or `?token=<token>`. */
  token?: string;
  /** The logger's recent lines for the page's log tail; none shown without it. */
  logTail?: LogTail;
  /** Adds routes before the server listens, behind the same token check (bull-board at /queues in Redis mode). */
  mountQueueBoard?: (app: FastifyInstance) => Promise<void>;
  /** How often pages get a snapshot and the throughput charts a sample; default one second. */
  tickMs?: number;
  /** The run writes nothing: the page says so and counts what would be copied. */
  dryRun?: boolean;
}

export interface Dashboard {
  /** Where the page is, without the token (it must not land in logs). */
  url: string;
  close(): Promise<void>;
}

/** The listen failures an admin fixes with an option, as one line; anything else stays a bug. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = errorCode(error);
  if (code === 'EADDRINUSE') return new UserError(`the dashboard cannot listen on ${host}:${port}: the port is in use; pass --ui-port with another port`, 'ui.port-in-use');
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UserError(`the dashboard cannot listen on ${host}: no such address on this machine; pass --ui-host with one of its addresses`, 'ui.bad-host');
  }
  if (code === 'EACCES') return new UserError(`the dashboard may not listen on port ${port} (ports below 1024 need root); pass --ui-port with another port`, 'ui.port-denied');
  return error;
}

const limitSchema = (maximum: number) => ({ type: 'integer', minimum: 1, maximum }) as const;

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? defaultDashboardHost;
  const token = options.token === '' ? undefined : options.token;
  assertSafeBinding(host, token);

  const state = new DashboardState(options.source, options.logTail);
  const metrics = new SyncMetrics(options.source);
  // No request log: fastify would write URLs, and a URL can carry ?token=.
  const app = Fastify({ logger: false, forceCloseConnections: true });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    if (token !== undefined) {
      const query = request.query as Record<string, unknown> | undefined;
      if (!tokenMatches(presentedToken(request.headers.authorization, query?.token, request.headers.cookie), token)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="mastodon-s3-sync"')
          .type('text/plain; charset=utf-8')
          .send('token required: open the dashboard as /?token=TOKEN, or send "Authorization: Bearer TOKEN"\n');
      }
      if (typeof query?.token === 'string') reply.header('set-cookie', tokenCookieHeader(token));
    } else if (!hostHeaderIsLoopback(request.headers.host)) {
      return reply.code(403).type('text/plain; charset=utf-8').send('this dashboard only answers to localhost; set a token to serve other names\n');
    }
  });

  // A source that cannot be read right now (its Redis away) throws a UserError: 503 with the line that
  // says why and what to do, rather than a 500 that reads as a bug. Prometheus records a failed scrape
  // (up == 0) and no sample, instead of old counts taken for live ones.
  app.setErrorHandler((error, _request, reply) => {
    if (!(error instanceof UserError)) throw error;
    return reply.code(503).header('cache-control', 'no-store').send({ error: error.message });
  });

  const page = dashboardHtml({ dryRun: options.dryRun === true, logTail: options.logTail !== undefined });
  app.get('/', async (_request, reply) => {
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', dashboardContentSecurityPolicy)
      .header('cache-control', 'no-store')
      .send(page);
  });

  app.get('/api/jobs', async () => ({ time: Date.now(), jobs: await state.jobs() }));

  app.get<{ Querystring: { job?: string; limit: number } }>(
    '/api/failures',
    { schema: { querystring: { type: 'object', properties: { job: { type: 'string' }, limit: { ...limitSchema(1000), default: 50 } } } } },
    async (request) => ({ failures: await options.source.failures({ job: request.query.job || undefined, limit: request.query.limit }) }),
  );

  app.get<{ Querystring: { limit: number } }>(
    '/api/logs',
    { schema: { querystring: { type: 'object', properties: { limit: { ...limitSchema(1000), default: 100 } } } } },
    async (request) => ({ lines: options.logTail?.lines(request.query.limit) ?? [] }),
  );

  let live: LiveUpdates | undefined;
  app.get('/api/events', (request, reply) => {
    // The stream outlives this handler: fastify must not answer or close it.
    reply.hijack();
    live?.add(reply.raw);
  });

  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  app.addHook('preClose', async () => {
    // Open event streams would otherwise hold close() until every page is closed.
    live?.close();
  });

  const port = options.port ?? defaultDashboardPort;
  try {
    if (options.mountQueueBoard !== undefined) await options.mountQueueBoard(app);
    await app.listen({ host, port });
  } catch (error) {
    metrics.close();
    await app.close();
    throw listenError(error, host, port);
  }
  live = new LiveUpdates(state, options.tickMs);
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${boundPort}/`,
    async close() {
      live?.close();
      metrics.close();
      await app.close();
    },
  };
}
