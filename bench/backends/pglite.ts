// PGlite in memory (or in BENCH_PGLITE_DIR). Baselines use the PGlite instance directly.

import process from "node:process";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteSnapshotStore } from "../../adapters/pglite/mod.ts";
import type { BenchBackend } from "../_backend.ts";
import { sqlBaseline } from "../_sql_baseline.ts";

const backend: BenchBackend = {
  name: "pglite",
  async open(options = {}) {
    const metadata = options.metadata === true;
    const dataDir = process.env.BENCH_PGLITE_DIR;
    const db = await PGlite.create(dataDir ? { dataDir } : {});
    const eventLog = new PgliteEventLog(db);
    await eventLog.setup();
    const baseline = sqlBaseline(
      {
        query: (text, params) => db.query(text, params),
        insertRows: async (table, rows, withIds) => {
          const width = withIds ? 5 : 3;
          const values = rows.map((_, i) =>
            `(${Array.from({ length: width }, (_, c) => `$${width * i + c + 1}`).join(", ")})`
          );
          const columns = withIds ? "k, seq, bytes, command_id, correlation_id" : "k, seq, bytes";
          await db.query(
            `insert into ${table} (${columns}) values ${values.join(", ")}`,
            rows.flatMap((row) => row.slice(0, width)),
          );
        },
        readRows: async (table, count, withIds) => {
          let read = 0;
          let after = 0;
          const columns = withIds ? "k, seq, bytes, command_id, correlation_id" : "k, seq, bytes";
          while (read < count) {
            const page = await db.query<[string, number, Uint8Array]>(
              `select ${columns} from ${table} where k = 'a' and seq > $1 order by seq limit 1000`,
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
      metadata,
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
