// The edge hooks of PostgresEventLog and of a projection on PostgreSQL (a real server started
// for this file), with the real OpenTelemetry SDK (see _otel_edges_log.ts).

import { after, before } from "node:test";
import postgres from "postgres";
import {
  PostgresEventLog,
  type PostgresEventLogOptions,
  PostgresOffsetStore,
} from "../adapters/postgres/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { testLogEdges } from "./_otel_edges_log.ts";

let server: PostgresServer;
let sql: postgres.Sql;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  await new PostgresEventLog(sql).setup();
}, { timeout: 60_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
});

testLogEdges({
  name: "postgres",
  groupCommit: true,
  eventLog: (options) => new PostgresEventLog(sql, options as PostgresEventLogOptions),
  offsetStore: () => new PostgresOffsetStore(sql, { lockPollMs: 50 }) as never,
});
