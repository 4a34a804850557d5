/**
 * The PostgreSQL backend: {@linkcode PostgresEventLog}, {@linkcode PostgresSnapshotStore} and
 * the projection offset store {@linkcode PostgresOffsetStore} over the npm package `postgres`
 * (postgres.js), for PostgreSQL 13 or later.
 *
 * Pass your own client (`new PostgresEventLog(sql)`), or let `connect({ url, max, ssl })` open
 * one that `close()` ends. Call `setup()` once, on any of them, to create every table;
 * `schema` and `tablePrefix` place them.
 *
 * @example Entities on PostgreSQL
 * ```ts ignore
 * import { jsonBinarize, spawn } from "@eventsourced/eventsourced";
 * import { PostgresEventLog, PostgresSnapshotStore } from "@eventsourced/eventsourced/postgres";
 *
 * const eventLog = await PostgresEventLog.connect({ url: process.env.DATABASE_URL });
 * const snapshotStore = await PostgresSnapshotStore.connect({ url: process.env.DATABASE_URL });
 * await eventLog.setup();
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const ref = await spawn(counter, "c-1", { eventLog, snapshotStore, snapshotAfter: 100, binarize: jsonBinarize() });
 * await ref.stop();
 * await eventLog.close();
 * await snapshotStore.close();
 * ```
 *
 * @module
 */

export type { PostgresEventLogOptions } from "./postgres_event_log.ts";
export type { PostgresSnapshotStoreOptions } from "./postgres_snapshot_store.ts";
export type { PostgresConnectOptions } from "./connect_options.ts";
export type { NameOptions } from "../_sql/names.ts";
export type { SqlEventLogOptions } from "../_sql/sql_event_log.ts";
export type { SqlSnapshotStoreOptions } from "../_sql/sql_snapshot_store.ts";

export { PostgresEventLog } from "./postgres_event_log.ts";
export { PostgresSnapshotStore } from "./postgres_snapshot_store.ts";
export { SCHEMA_VERSION } from "../_sql/schema.ts";

// The projection offset store of this backend (see `./projection`).
export type { PostgresOffsetStoreOptions } from "./postgres_offset_store.ts";
export type { OffsetTableOptions } from "../_sql/sql_offset_store.ts";
export { PostgresOffsetStore } from "./postgres_offset_store.ts";

// The store admin of this backend (see `./admin`).
export type { PostgresStoreAdminOptions } from "./postgres_store_admin.ts";
export { PostgresStoreAdmin } from "./postgres_store_admin.ts";

// The key store of crypto-shredding on this backend (see `./shredding`).
export type { PostgresKeyStoreOptions } from "./postgres_key_store.ts";
export { PostgresKeyStore } from "./postgres_key_store.ts";

// The GRANT statements of least-privileged roles (writer, projection, reader).
export type { PostgresGrantOptions, PostgresRoleKind } from "./grants.ts";
export { postgresGrants } from "./grants.ts";
