import http from 'node:http';

/** One Server-Sent Event as it came over the wire. */
export interface ServerEvent {
  event: string;
  data: string;
}

/**
 * A real EventSource-style reader over node:http, for tests: it keeps every event that arrives
 * and lets a test wait for the first one that matches.
 */
export class SseReader {
  readonly events: ServerEvent[] = [];
  readonly #waiters: { test: (event: ServerEvent) => boolean; resolve: (event: ServerEvent) => void }[] = [];
  #request: http.ClientRequest | undefined;

  private constructor() {}

  static open(url: string, headers: Record<string, string> = {}): Promise<{ reader: SseReader; status: number; contentType: string | undefined }> {
    const reader = new SseReader();
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            reader.#receive(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
        response.on('error', () => {});
        resolve({ reader, status: response.statusCode ?? 0, contentType: response.headers['content-type'] });
      });
      request.on('error', reject);
      reader.#request = request;
    });
  }

  /** The first event, past or future, for which `test` holds. */
  next(test: (event: ServerEvent) => boolean, timeoutMs = 5000): Promise<ServerEvent> {
    const seen = this.events.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; got ${this.events.length} events`)), timeoutMs);
      this.#waiters.push({
        test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  close(): void {
    this.#request?.destroy();
  }

  #receive(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length === 0) return;
    const received = { event, data: data.join('\n') };
    this.events.push(received);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.test(received)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(received);
    }
  }
}
