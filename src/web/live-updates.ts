import type { ServerResponse } from 'node:http';
import { UserError } from '../errors.js';
import type { DashboardState, Cursor, Snapshot } from './dashboard-state.js';

/**
 * Bytes a page may leave unread before it is dropped: one that stops reading (a frozen tab, a
 * link that went quiet) would otherwise have the server buffer every push for it, without end.
 * Its EventSource reconnects to a full snapshot once it reads again.
 */
const maxUnreadBytes = 4 * 1024 * 1024;

interface Client {
  response: ServerResponse;
  cursor: Cursor | undefined;
}

/** Pushed instead of a snapshot while the source cannot be read: the page keeps its counts and marks them as not live. */
interface Unavailable {
  time: number;
  /** The source's line: what is wrong and what to do. */
  reason: string;
}

/**
 * Server-Sent Events to the open pages: a snapshot every tick and soon after a job starts or
 * finishes or an object fails, or, while the source cannot be read, an `unavailable` event that
 * says why. Each page gets only the log lines and chart samples it lacks.
 */
export class LiveUpdates {
  readonly #clients = new Set<Client>();
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  #pending: NodeJS.Timeout | undefined;
  /** One push at a time: a slow source must not pile up overlapping reads, so requests made meanwhile merge into one. */
  #busy = false;
  #wanted = false;
  #wantSample = false;
  #closed = false;

  constructor(
    private readonly state: DashboardState,
    tickMs = 1000,
  ) {
    this.#timer = setInterval(() => this.#enqueue(true), tickMs);
    // The HTTP server keeps the process up while it listens; this timer must not once it is closed.
    this.#timer.unref();
    this.#unsubscribe = state.source.subscribe((change) => {
      if (change.type === 'job' || change.event.outcome === 'failed' || change.event.outcome === 'missing') this.#soon();
    });
    this.#enqueue(true);
  }

  /** Starts streaming to a response whose request was authorized. */
  add(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Reverse proxies (nginx) would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    response.write('retry: 2000\n\n');
    const client: Client = { response, cursor: undefined };
    this.#clients.add(client);
    response.on('close', () => this.#clients.delete(client));
    // A page that went away mid-write must not take the process down with an unhandled 'error'.
    response.on('error', () => this.#clients.delete(client));
    this.#soon();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#pending);
    this.#unsubscribe();
    for (const client of this.#clients) client.response.end();
    this.#clients.clear();
  }

  /** Coalesces bursts (a hundred failures in a second) into one push. */
  #soon(): void {
    if (this.#pending !== undefined || this.#closed) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#enqueue(false);
    }, 50);
    this.#pending.unref();
  }

  #enqueue(sample: boolean): void {
    this.#wanted = true;
    this.#wantSample ||= sample;
    if (!this.#busy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    while (this.#wanted && !this.#closed) {
      const sample = this.#wantSample;
      this.#wanted = false;
      this.#wantSample = false;
      try {
        await this.#push(sample);
      } catch (error) {
        if (error instanceof UserError) this.#send('unavailable', { time: Date.now(), reason: error.message } satisfies Unavailable);
        // Anything else skips this push; a page that hears nothing for a while marks its data stale.
      }
    }
    this.#busy = false;
  }

  async #push(sample: boolean): Promise<void> {
    if (this.#closed) return;
    const now = Date.now();
    if (sample) await this.state.sample(now);
    if (this.#clients.size === 0) return;
    const shared = await this.state.shared(now);
    for (const client of this.#writable()) {
      const news = this.state.news(client.cursor);
      const snapshot: Snapshot = { full: client.cursor === undefined, ...shared, logs: news.logs, samples: news.samples };
      client.cursor = news.cursor;
      client.response.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    }
  }

  /** The same event to every page. */
  #send(event: string, data: unknown): void {
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.#writable()) client.response.write(message);
  }

  /** The pages that can take a push now; one that has left too much unread is dropped. */
  *#writable(): Generator<Client> {
    for (const client of this.#clients) {
      if (client.response.destroyed || client.response.writableEnded) continue;
      if (client.response.writableLength > maxUnreadBytes) {
        this.#clients.delete(client);
        client.response.destroy();
        continue;
      }
      yield client;
    }
  }
}
