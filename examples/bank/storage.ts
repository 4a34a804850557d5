// Where the demo keeps its events: PGlite in a data directory by default (a second run
// recovers the first run's state), PostgreSQL when DATABASE_URL or --database-url is given,
// or memory with --memory. Beside the events: the read model of activity.ts and its
// projection offsets, in the same database (one transaction each) or in memory.

import { mkdirSync } from "node:fs";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import {
  type EventLog,
  MemoryEventLog,
  MemorySnapshotStore,
  type SnapshotStore,
} from "../../mod.ts";
import postgres from "postgres";
import {
  PgliteEventLog,
  PgliteOffsetStore,
  PgliteSnapshotStore,
} from "../../adapters/pglite/mod.ts";
import {
  PostgresEventLog,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../../adapters/postgres/mod.ts";
import { MemoryOffsetStore } from "../../projection/mod.ts";
import { type ActivityStorage, memoryActivityTables, sqlActivityTables } from "./activity.ts";

export interface Storage {
  readonly description: string;
  readonly eventLog: EventLog;
  readonly snapshotStore: SnapshotStore;
  readonly activity: ActivityStorage;
  close(): Promise<void>;
}

export interface StorageChoice {
  memory?: boolean;
  databaseUrl?: string | undefined;
  dataDir?: string;
  /** Events of the two codecs are kept apart: a log holds one encoding. */
  codec: "json" | "protobuf";
}

export async function openStorage(choice: StorageChoice): Promise<Storage> {
  if (choice.memory) {
    return {
      description: "memory (nothing is kept)",
      eventLog: new MemoryEventLog(),
      snapshotStore: new MemorySnapshotStore(),
      activity: {
        tables: memoryActivityTables(),
        offsetStore: new MemoryOffsetStore(),
        delivery: "at least once, in memory",
      },
      close: () => Promise.resolve(),
    };
  }
  if (choice.databaseUrl) {
    const names = { tablePrefix: choice.codec === "json" ? "bank_" : "bank_pb_" };
    const eventLog = await PostgresEventLog.connect({ url: choice.databaseUrl, ...names });
    const snapshotStore = await PostgresSnapshotStore.connect({
      url: choice.databaseUrl,
      ...names,
    });
    await eventLog.setup();
    await snapshotStore.setup();
    // The read model's own client: the offset store holds a connection for its lock.
    const sql = postgres(choice.databaseUrl, { max: 3, onnotice: () => {} });
    const offsetStore = new PostgresOffsetStore(sql, names);
    const tables = sqlActivityTables<postgres.TransactionSql>(
      names.tablePrefix,
      (tx, text, params) => (tx ?? sql).unsafe(text, params as postgres.ParameterOrJSON<never>[]),
    );
    await offsetStore.setup();
    await tables.setup();
    return {
      description: `PostgreSQL at ${
        new URL(choice.databaseUrl).host
      }, tables ${names.tablePrefix}*`,
      eventLog,
      snapshotStore,
      activity: {
        tables: tables as ActivityStorage["tables"],
        offsetStore,
        delivery: "exactly once, in PostgreSQL",
      },
      close: async () => {
        await sql.end();
        await eventLog.close();
        await snapshotStore.close();
      },
    };
  }
  const dataDir = choice.dataDir ??
    (choice.codec === "json" ? "./.data/bank-demo" : "./.data/bank-demo-protobuf");
  // PGlite creates the data directory itself but not its parents (./.data on a fresh clone).
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir });
  const eventLog = new PgliteEventLog(db);
  const snapshotStore = new PgliteSnapshotStore(db);
  await eventLog.setup();
  await snapshotStore.setup();
  const offsetStore = new PgliteOffsetStore(db);
  const tables = sqlActivityTables<Transaction>(
    "bank_",
    async (tx, text, params) =>
      (await (tx ?? db).query<Record<string, unknown>>(text, params)).rows,
  );
  await offsetStore.setup();
  await tables.setup();
  return {
    description: `PGlite in ${dataDir}`,
    eventLog,
    snapshotStore,
    activity: {
      tables: tables as ActivityStorage["tables"],
      offsetStore,
      delivery: "exactly once, in PGlite",
    },
    close: () => db.close(),
  };
}
