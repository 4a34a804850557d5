// The stores of bench/copy.ts: a PGlite source in memory, and PostgreSQL and NATS stores on
// servers started by the tests' helpers (or PG_URL / NATS_WS_URL), each fresh store in tables
// or a stream of its own, with a raw-driver read of a source's events beside them.

import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import type { StoreAdmin } from "../admin/mod.ts";
import { PgliteStoreAdmin } from "../adapters/pglite/mod.ts";
import { PostgresStoreAdmin } from "../adapters/postgres/mod.ts";
import { NatsStoreAdmin } from "../adapters/nats/mod.ts";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { type PostgresServer, startPostgres } from "../tests/_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "../tests/_servers/nats.ts";

/** A fresh store and, for SQL, a raw read of its events of one type. */
export interface BenchStore {
  readonly admin: StoreAdmin;
  /** Reads every row of `typeName`'s events with the bare driver, in position order; rows read. */
  readonly rawRead?: (typeName: string) => Promise<number>;
}

const COLUMNS =
  "type_name, id, seq_no, position, bytes, version, written_at, command_id, correlation_id, causation_id, headers";
const PAGE = 1000;

let opened = 0;
const prefix = () => `copy_${Date.now().toString(36)}_${opened++}_`;

/** Servers and how to open stores on them. */
export interface BenchServers {
  open(backend: "pglite" | "postgres" | "nats"): Promise<BenchStore>;
  close(): Promise<void>;
}

/** Starts the servers the backends need (PostgreSQL without fsync: both sides alike). */
export async function startServers(backends: readonly string[]): Promise<BenchServers> {
  let pg: PostgresServer | undefined;
  let sql: postgres.Sql | undefined;
  let nats: NatsTestServer | undefined;
  let nc: NatsConnection | undefined;
  const dbs: PGlite[] = [];
  const admins: StoreAdmin[] = [];
  if (backends.includes("postgres")) {
    pg = await startPostgres({ fsync: false });
    sql = postgres(pg.url, { max: 4, onnotice: () => {}, fetch_types: false });
  }
  if (backends.includes("nats")) {
    nats = await startNatsServer();
    nc = await wsconnect({ servers: nats.wsUrl });
  }
  return {
    async open(backend) {
      if (backend === "pglite") {
        const db = await PGlite.create();
        dbs.push(db);
        const tablePrefix = prefix();
        const admin = new PgliteStoreAdmin(db, { tablePrefix });
        await admin.setup();
        admins.push(admin);
        return {
          admin,
          rawRead: async (typeName) => {
            let read = 0, after = 0;
            for (;;) {
              const { rows } = await db.query<{ position: number }>(
                `select ${COLUMNS} from "public"."${tablePrefix}events" where type_name = $1 and position > $2 order by position limit ${PAGE}`,
                [typeName, after],
              );
              read += rows.length;
              if (rows.length < PAGE) return read;
              after = Number(rows.at(-1)!.position);
            }
          },
        };
      }
      if (backend === "postgres") {
        const tablePrefix = prefix();
        const admin = new PostgresStoreAdmin(sql!, { tablePrefix });
        await admin.setup();
        admins.push(admin);
        return {
          admin,
          rawRead: async (typeName) => {
            let read = 0;
            const cursor = sql!.unsafe(
              `select ${COLUMNS} from "public"."${tablePrefix}events" where type_name = $1 order by position`,
              [typeName],
            ).cursor(PAGE);
            for await (const rows of cursor) read += rows.length;
            return read;
          },
        };
      }
      const name = prefix().replaceAll("_", "");
      const admin = new NatsStoreAdmin(nc!, {
        stream: name,
        subjectPrefix: name,
        snapshotBucket: `${name}-snapshots`,
        offsetBucket: `${name}-offsets`,
      });
      await admin.setup();
      admins.push(admin);
      return { admin };
    },
    async close() {
      for (const admin of admins) await admin.close().catch(() => {});
      for (const db of dbs) await db.close();
      await sql?.end({ timeout: 5 });
      await pg?.stop();
      await nc?.close();
      await nats?.dispose();
    },
  };
}
