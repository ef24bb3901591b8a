import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { UserError } from '../errors.js';

export const queueBoardPath = '/queues';

/** Where bull-board serves its scripts and styles (createBullBoard's static route), which need no Redis. */
const staticPath = `${queueBoardPath}/static/`;

/**
 * Runs one request's work while the queue's Redis answers: rejects with a UserError, at once while
 * Redis is known not to answer, else once it has not answered within the dashboard's bound.
 */
export type WhileRedisAnswers = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * bull-board at /queues: the queue's internals (waiting, active, failed jobs and their data) beside our dashboard.
 * Its handlers read the queue through a client that waits for a Redis away rather than fail, so each
 * runs under `whileRedisAnswers`: while Redis does not answer, the page and its API answer 503 with
 * the line that says why, as /api/* and /metrics do, instead of never.
 */
export function queueBoardMount(queue: Queue, whileRedisAnswers: WhileRedisAnswers): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    const serverAdapter = new FastifyAdapter();
    createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: true })], serverAdapter });
    serverAdapter.setBasePath(queueBoardPath);
    // A scope of its own, so that the hook sees bull-board's routes only.
    await app.register(async (board) => {
      board.addHook('onRoute', (route) => {
        if (route.url.startsWith(staticPath)) return;
        const handler = route.handler;
        route.handler = async function (request, reply) {
          try {
            // A late answer is dropped: fastify ignores a send on a reply already sent.
            return await whileRedisAnswers(async () => (await handler.call(this, request, reply)) as unknown);
          } catch (error) {
            if (!(error instanceof UserError)) throw error;
            return reply.code(503).header('cache-control', 'no-store').send({ error: error.message });
          }
        } satisfies RouteHandlerMethod;
      });
      await board.register(serverAdapter.registerPlugin(), { prefix: queueBoardPath });
    });
  };
}
