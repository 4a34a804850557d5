/**
 * The embedded backend: {@linkcode PgliteEventLog}, {@linkcode PgliteSnapshotStore} and the
 * projection offset store {@linkcode PgliteOffsetStore} over `@electric-sql/pglite`, PostgreSQL compiled to WebAssembly. Same schema and SQL as
 * `./postgres`, no server: in memory for tests and demos, or in a data directory that a later
 * run opens again.
 *
 * @example Entities on PGlite
 * ```ts
 * import { jsonBinarize, spawn } from "@eventsourced/eventsourced";
 * import { PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const eventLog = await PgliteEventLog.open();
 * await eventLog.setup();
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const ref = await spawn(counter, "c-1", { eventLog, binarize: jsonBinarize() });
 * await ref.stop();
 * assert.equal(await eventLog.lastSeqNo("counter", "c-1"), null);
 * await eventLog.close();
 * ```
 *
 * @module
 */

export type { PgliteEventLogOptions, PgliteOpenOptions } from "./pglite_event_log.ts";
export type { PgliteSnapshotStoreOptions } from "./pglite_snapshot_store.ts";
export type { PgliteClient } from "./_client.ts";
export type { NameOptions } from "../_sql/names.ts";
export type { SqlEventLogOptions } from "../_sql/sql_event_log.ts";
export type { SqlSnapshotStoreOptions } from "../_sql/sql_snapshot_store.ts";

export { PgliteEventLog } from "./pglite_event_log.ts";
export { PgliteSnapshotStore } from "./pglite_snapshot_store.ts";
export { SCHEMA_VERSION } from "../_sql/schema.ts";

// The projection offset store of this backend (see `./projection`).
export type { PgliteOffsetClient, PgliteOffsetStoreOptions } from "./pglite_offset_store.ts";
export type { OffsetTableOptions } from "../_sql/sql_offset_store.ts";
export { PgliteOffsetStore } from "./pglite_offset_store.ts";

// The store admin of this backend (see `./admin`).
export type { PgliteStoreAdminOptions } from "./pglite_store_admin.ts";
export { PgliteStoreAdmin } from "./pglite_store_admin.ts";

// The key store of crypto-shredding on this backend (see `./shredding`).
export type { PgliteKeyStoreOptions } from "./pglite_key_store.ts";
export { PgliteKeyStore } from "./pglite_key_store.ts";
