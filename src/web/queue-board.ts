import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const queueBoardPath = '/queues';

/** bull-board at /queues: the queue's internals (waiting, active, failed jobs and their data) beside our dashboard. */
export function queueBoardMount(queue: Queue): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    const serverAdapter = new FastifyAdapter();
    createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: true })], serverAdapter });
    serverAdapter.setBasePath(queueBoardPath);
    await app.register(serverAdapter.registerPlugin(), { prefix: queueBoardPath });
  };
}
