// Where the demo keeps its events: PGlite in a data directory by default (a second run
// recovers the first run's state), PostgreSQL when DATABASE_URL or --database-url is given,
// or memory with --memory.

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
    const eventLog = await PostgresEventLog.connect({ url: choice.databaseUrl });
    const snapshotStore = await PostgresSnapshotStore.connect({ url: choice.databaseUrl });
    await eventLog.setup();
    await snapshotStore.setup();
    return {
      description: `PostgreSQL at ${new URL(choice.databaseUrl).host}`,
      eventLog,
      snapshotStore,
      close: async () => {
        await eventLog.close();
        await snapshotStore.close();
      },
    };
  }
  const dataDir = choice.dataDir ?? "./.data/bank-demo";
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
