// PGlite in memory (or in BENCH_PGLITE_DIR). Baselines use the PGlite instance directly.

import process from "node:process";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteSnapshotStore } from "../../adapters/pglite/mod.ts";
import type { BenchBackend } from "../_backend.ts";
import { sqlBaseline } from "../_sql_baseline.ts";

const backend: BenchBackend = {
  name: "pglite",
  async open() {
    const dataDir = process.env.BENCH_PGLITE_DIR;
    const db = await PGlite.create(dataDir ? { dataDir } : {});
    const eventLog = new PgliteEventLog(db);
    await eventLog.setup();
    const baseline = sqlBaseline(
      {
        query: (text, params) => db.query(text, params),
        insertRows: async (table, rows) => {
          const values = rows.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`);
          await db.query(
            `insert into ${table} (k, seq, bytes) values ${values.join(", ")}`,
            rows.flat(),
          );
        },
        readRows: async (table, count) => {
          let read = 0;
          let after = 0;
          while (read < count) {
            const page = await db.query<[string, number, Uint8Array]>(
              `select k, seq, bytes from ${table} where k = 'a' and seq > $1 order by seq limit 1000`,
              [after],
              { rowMode: "array" },
            );
            if (page.rows.length === 0) break;
            read += page.rows.length;
            after = Number(page.rows[page.rows.length - 1]![1]);
          }
          return read;
        },
      },
      "bench_raw",
      1,
    );
    return {
      eventLog,
      snapshotStore: new PgliteSnapshotStore(db),
      baseline,
      async close() {
        await eventLog.close();
        await db.close();
      },
    };
  },
};

export default backend;
