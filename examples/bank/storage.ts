// Where the demo keeps its events: PGlite in a data directory by default (a second run
// recovers the first run's state), PostgreSQL when DATABASE_URL or --database-url is given,
// or memory with --memory.

import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import {
  type EventLog,
  MemoryEventLog,
  MemorySnapshotStore,
  type SnapshotStore,
} from "../../mod.ts";
import { PgliteEventLog, PgliteSnapshotStore } from "../../adapters/pglite/mod.ts";
import { PostgresEventLog, PostgresSnapshotStore } from "../../adapters/postgres/mod.ts";

export interface Storage {
  readonly description: string;
  readonly eventLog: EventLog;
  readonly snapshotStore: SnapshotStore;
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
    return {
      description: `PostgreSQL at ${
        new URL(choice.databaseUrl).host
      }, tables ${names.tablePrefix}*`,
      eventLog,
      snapshotStore,
      close: async () => {
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
  return {
    description: `PGlite in ${dataDir}`,
    eventLog,
    snapshotStore,
    close: () => db.close(),
  };
}
