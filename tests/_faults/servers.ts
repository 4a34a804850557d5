// The PostgreSQL and nats-server pair the multi-process fault tests share: both started on
// free loopback ports with temporary data, and their schema and stream set up, so the child
// writers can open their logs straight away.

import postgres from "postgres";
import { PostgresEventLog } from "../../adapters/postgres/mod.ts";
import { NatsEventLog } from "../../adapters/nats/mod.ts";
import { type PostgresServer, startPostgres } from "../_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "../_servers/nats.ts";

export interface FaultServers {
  pg: PostgresServer;
  nats: NatsTestServer;
}

/** Starts both servers and runs the adapters' setup on them. */
export async function startFaultServers(): Promise<FaultServers> {
  const pg = await startPostgres({ fsync: false });
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await new PostgresEventLog(sql).setup();
  } finally {
    await sql.end({ timeout: 5 });
  }
  const nats = await startNatsServer();
  const log = await NatsEventLog.connect({ servers: nats.wsUrl });
  try {
    await log.setup();
  } finally {
    await log.close();
  }
  return { pg, nats };
}
