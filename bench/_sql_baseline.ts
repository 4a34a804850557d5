// The raw-driver baseline shared by the PostgreSQL and PGlite bench backends: the same rows the
// event log writes (a key, a seqNo, ~30 bytes of JSON, a primary key), written with plain
// INSERTs and no event-sourcing logic.

import type { Baseline } from "./_backend.ts";

/** A driver for the baseline: one statement with parameters, and a multi-row insert. */
export interface RawDriver {
  query(text: string, params: unknown[]): Promise<unknown>;
  insertRows(table: string, rows: readonly [string, number, Uint8Array][]): Promise<void>;
  readRows(table: string, count: number): Promise<number>;
}

const ROW = new TextEncoder().encode('{"type":"increased","by":1}');

/** Baselines over `driver`, in a table of their own. */
export function sqlBaseline(driver: RawDriver, table: string, concurrency: number): Baseline {
  const reset = async () => {
    await driver.query(`drop table if exists ${table}`, []);
    await driver.query(
      `create table ${table} (k text not null, seq bigint not null, bytes bytea not null,
        written_at timestamptz not null default now(), primary key (k, seq))`,
      [],
    );
  };
  return {
    async sequential(count) {
      await reset();
      const text = `insert into ${table} (k, seq, bytes) values ($1, $2, $3)`;
      const start = performance.now();
      for (let i = 1; i <= count; i++) await driver.query(text, ["a", i, ROW]);
      return count / ((performance.now() - start) / 1000);
    },
    async concurrent(writers, perWriter) {
      await reset();
      type Row = {
        row: [string, number, Uint8Array];
        done: () => void;
        fail: (e: unknown) => void;
      };
      let queue: Row[] = [];
      let inFlight = 0;
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        while (inFlight < concurrency && queue.length > 0) {
          const batch = queue;
          queue = [];
          inFlight++;
          driver.insertRows(table, batch.map((r) => r.row)).then(
            () => batch.forEach((r) => r.done()),
            (error) => batch.forEach((r) => r.fail(error)),
          ).finally(() => {
            inFlight--;
            flush();
          });
        }
      };
      const write = (row: [string, number, Uint8Array]) =>
        new Promise<void>((done, fail) => {
          queue.push({ row, done, fail });
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(flush);
          }
        });
      const start = performance.now();
      await Promise.all(Array.from({ length: writers }, async (_, w) => {
        for (let i = 1; i <= perWriter; i++) await write([`w${w}`, i, ROW]);
      }));
      return (writers * perWriter) / ((performance.now() - start) / 1000);
    },
    async read(count) {
      await reset();
      const rows: [string, number, Uint8Array][] = [];
      for (let i = 1; i <= count; i++) rows.push(["a", i, ROW]);
      for (let i = 0; i < rows.length; i += 1000) {
        await driver.insertRows(table, rows.slice(i, i + 1000));
      }
      const start = performance.now();
      const read = await driver.readRows(table, count);
      if (read !== count) throw new Error(`Baseline read ${read} of ${count} rows`);
      return count / ((performance.now() - start) / 1000);
    },
  };
}
