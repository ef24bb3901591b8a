import pg from 'pg';
import type { Row } from './object-ref.js';
import type { SqlQuery } from './row-sql.js';

/**
 * Rows handed on together. A page's rows used to be handed on when its last row had arrived, so
 * up to two pages of rows (the one being derived, the next one arriving) were alive at every
 * scavenge, and V8's scavenger copies every young object still alive: over a million rows that
 * was a third of the client's CPU. Handed on as they arrive, a few hundred rows at a time, a row
 * is garbage before the next scavenge.
 */
const rowsPerBatch = 500;

export interface PageEnd {
  /** Rows the page held. */
  readonly rows: number;
  /** The last row's id: the next page's keyset cursor. */
  readonly lastId: string | undefined;
}

/** One page query's rows, in batches of at most {@link rowsPerBatch} as they arrive. */
export class StreamedPage {
  /** Settles when the page's last row has arrived; rejects with the query's error. */
  readonly ended: Promise<PageEnd>;
  readonly #ready: Row[][] = [];
  #filling: Row[] = [];
  #done = false;
  #failure: { readonly error: unknown } | undefined;
  #wake: (() => void) | undefined;

  constructor(client: pg.Client, sql: SqlQuery, describeError: (error: unknown) => unknown) {
    const query = client.query(new pg.Query<Row>(sql.text, sql.values));
    let rows = 0;
    let lastId: string | undefined;
    this.ended = new Promise<PageEnd>((resolve, reject) => {
      query.on('row', (row: Row) => {
        rows += 1;
        lastId = String(row['id']);
        this.#filling.push(row);
        if (this.#filling.length === rowsPerBatch) this.#handOn();
      });
      query.on('end', () => {
        if (this.#filling.length > 0) this.#handOn();
        this.#finish();
        resolve({ rows, lastId });
      });
      query.on('error', (error: unknown) => {
        this.#failure = { error: describeError(error) };
        this.#finish();
        reject(this.#failure.error);
      });
    });
    // Its failure reaches the reader through batches(); a reader that stopped early never asks.
    this.ended.catch(() => undefined);
  }

  /** The rows so far, then the rest as they come; throws the query's error after the rows before it. */
  async *batches(): AsyncGenerator<Row[], void, undefined> {
    for (;;) {
      const batch = this.#ready.shift();
      if (batch !== undefined) {
        yield batch;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#done) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #handOn(): void {
    this.#ready.push(this.#filling);
    this.#filling = [];
    this.#signal();
  }

  #finish(): void {
    this.#done = true;
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
