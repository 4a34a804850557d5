// PostgreSQL: the server named by PG_URL, or a temporary one started by the tests' helper
// (initdb, free loopback port, default settings: fsync on). Baselines use postgres.js directly.
// BENCH_PG_NOTIFY=false turns NOTIFY off; BENCH_PG_BATCHES sets the group-commit batches in
// flight (default: the adapter's); BENCH_PG_FSYNC=off starts the temporary server without fsync;
// BENCH_RAW_BATCHES sets the raw baseline's multi-row INSERTs in flight (default 2).

import process from "node:process";
import postgres from "postgres";
import { PostgresEventLog, PostgresSnapshotStore } from "../../adapters/postgres/mod.ts";
import { startPostgres } from "../../tests/_servers/postgres.ts";
import type { BenchBackend } from "../_backend.ts";
import { sqlBaseline } from "../_sql_baseline.ts";

const backend: BenchBackend = {
  name: "postgres",
  async open(options = {}) {
    const metadata = options.metadata === true;
    const server = await startPostgres({ fsync: process.env.BENCH_PG_FSYNC !== "off" });
    const sql = postgres(server.url, { max: 10, onnotice: () => {} });
    const tablePrefix = `bench_${Date.now().toString(36)}_`;
    const batches = process.env.BENCH_PG_BATCHES;
    const eventLog = new PostgresEventLog(sql, {
      tablePrefix,
      notify: process.env.BENCH_PG_NOTIFY !== "false",
      ...(batches ? { concurrentBatches: Number(batches) } : {}),
    });
    await eventLog.setup();
    const baseline = sqlBaseline(
      {
        query: (text, params) => sql.unsafe(text, params as never[], { prepare: true }),
        insertRows: async (table, rows, withIds) => {
          await sql`insert into ${sql(table)} ${
            withIds
              ? sql(
                rows.map(([k, seq, bytes, command_id, correlation_id]) => ({
                  k,
                  seq,
                  bytes,
                  command_id,
                  correlation_id,
                })),
                "k",
                "seq",
                "bytes",
                "command_id",
                "correlation_id",
              )
              : sql(rows.map(([k, seq, bytes]) => ({ k, seq, bytes })), "k", "seq", "bytes")
          }`;
        },
        readRows: async (table, count, withIds) => {
          let read = 0;
          const columns = withIds
            ? sql`k, seq, bytes, command_id, correlation_id`
            : sql`k, seq, bytes`;
          const cursor = sql`select ${columns} from ${sql(table)} order by k, seq limit ${count}`
            .cursor(1000);
          for await (const rows of cursor) read += rows.length;
          return read;
        },
      },
      `${tablePrefix}raw`,
      Number(process.env.BENCH_RAW_BATCHES ?? 2),
      metadata,
    );
    return {
      eventLog,
      snapshotStore: new PostgresSnapshotStore(sql, { tablePrefix }),
      baseline,
      async close() {
        await eventLog.close();
        await sql.end({ timeout: 5 });
        await server.stop();
      },
    };
  },
};

export default backend;
