// The raw-driver baseline shared by the PostgreSQL and PGlite bench backends: the same rows the
// event log writes (a key, a seqNo, ~30 bytes of JSON, a primary key), written with plain
// INSERTs and no event-sourcing logic. With metadata (bench/load.ts --metadata) each row also
// carries a command id and a correlation id of the lengths load.ts gives its commands.

import type { Baseline } from "./_backend.ts";

/** A row of the baseline table: key, seqNo, bytes, then command id and correlation id. */
export type RawRow = readonly [string, number, Uint8Array, string, string];

/** A driver for the baseline: one statement with parameters, a multi-row insert, a paged read. */
export interface RawDriver {
  query(text: string, params: unknown[]): Promise<unknown>;
  /** Inserts `rows` into `table`: the first three columns, or all five with `metadata`. */
  insertRows(table: string, rows: readonly RawRow[], metadata: boolean): Promise<void>;
  /** Reads up to `count` rows back: (k, seq, bytes), and the two ids with `metadata`. */
  readRows(table: string, count: number, metadata: boolean): Promise<number>;
}

const ROW = new TextEncoder().encode('{"type":"increased","by":1}');

/**
 * Baselines over `driver`, in a table of their own, with `concurrency` multi-row INSERTs in
 * flight; `metadata` writes (and reads) the ids beside each row.
 */
export function sqlBaseline(
  driver: RawDriver,
  table: string,
  concurrency: number,
  metadata = false,
): Baseline {
  const reset = async () => {
    await driver.query(`drop table if exists ${table}`, []);
    await driver.query(
      `create table ${table} (k text not null, seq bigint not null, bytes bytea not null,
        written_at timestamptz not null default now(), command_id text, correlation_id text,
        primary key (k, seq))`,
      [],
    );
  };
  // The ids of bench/load.ts: correlation `<uuid>-<writer>`, command `<correlation>-<slice>-<i>`.
  const run = crypto.randomUUID();
  let slice = 0;
  const row = (k: string, writer: number, seq: number): RawRow => {
    if (!metadata) return [k, seq, ROW, "", ""];
    const correlationId = `${run}-${writer}`;
    return [k, seq, ROW, `${correlationId}-${slice}-${seq}`, correlationId];
  };
  return {
    async sequential(count) {
      await reset();
      slice++;
      const text = metadata
        ? `insert into ${table} (k, seq, bytes, command_id, correlation_id)
          values ($1, $2, $3, $4, $5)`
        : `insert into ${table} (k, seq, bytes) values ($1, $2, $3)`;
      const start = performance.now();
      for (let i = 1; i <= count; i++) {
        const values = row("a", 0, i);
        await driver.query(text, metadata ? [...values] : [values[0], values[1], values[2]]);
      }
      return count / ((performance.now() - start) / 1000);
    },
    async concurrent(writers, perWriter) {
      await reset();
      slice++;
      type Queued = { row: RawRow; done: () => void; fail: (e: unknown) => void };
      let queue: Queued[] = [];
      let inFlight = 0;
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        while (inFlight < concurrency && queue.length > 0) {
          const batch = queue;
          queue = [];
          inFlight++;
          driver.insertRows(table, batch.map((r) => r.row), metadata).then(
            () => batch.forEach((r) => r.done()),
            (error) => batch.forEach((r) => r.fail(error)),
          ).finally(() => {
            inFlight--;
            flush();
          });
        }
      };
      const write = (row: RawRow) =>
        new Promise<void>((done, fail) => {
          queue.push({ row, done, fail });
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(flush);
          }
        });
      const start = performance.now();
      await Promise.all(Array.from({ length: writers }, async (_, w) => {
        for (let i = 1; i <= perWriter; i++) await write(row(`w${w}`, w, i));
      }));
      return (writers * perWriter) / ((performance.now() - start) / 1000);
    },
    async read(count) {
      await reset();
      slice++;
      const rows: RawRow[] = [];
      for (let i = 1; i <= count; i++) rows.push(row("a", 0, i));
      for (let i = 0; i < rows.length; i += 1000) {
        await driver.insertRows(table, rows.slice(i, i + 1000), metadata);
      }
      const start = performance.now();
      const read = await driver.readRows(table, count, metadata);
      if (read !== count) throw new Error(`Baseline read ${read} of ${count} rows`);
      return count / ((performance.now() - start) / 1000);
    },
  };
}
