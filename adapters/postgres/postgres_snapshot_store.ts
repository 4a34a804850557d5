/**
 * {@linkcode PostgresSnapshotStore}: snapshots on PostgreSQL through postgres.js.
 *
 * @module
 */

import type postgres from "postgres";
import type { CallOptions } from "../../src/event_log.ts";
import type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "../../src/snapshot_store.ts";
import { anyValue, booleanOption, readOptions } from "../../src/_options.ts";
import { sqlNames } from "../_sql/names.ts";
import { snapshotRules, splitOptions } from "../_sql/options.ts";
import { SqlSnapshotStore, type SqlSnapshotStoreOptions } from "../_sql/sql_snapshot_store.ts";
import { positiveTimeout, postgresClient } from "./_client.ts";
import { openClient, type PostgresConnectOptions } from "./connect_options.ts";
import { POSTGRES_MAX_BYTES } from "./postgres_event_log.ts";

const RULES = {
  ...snapshotRules(POSTGRES_MAX_BYTES),
  prepare: booleanOption(true),
  // Checked by positiveTimeout (_client.ts).
  queryTimeout: anyValue<number | undefined>(undefined),
};

/**
 * Options of a {@linkcode PostgresSnapshotStore}.
 *
 * @example Next to the event log, behind a pooler
 * ```ts
 * import postgres from "postgres";
 * import {
 *   PostgresSnapshotStore,
 *   type PostgresSnapshotStoreOptions,
 * } from "@eventsourced/eventsourced/postgres";
 *
 * // The same tablePrefix as the event log's: either one's setup() creates both tables.
 * const options: PostgresSnapshotStoreOptions = { tablePrefix: "shop_", keep: 2, prepare: false };
 * const sql = postgres("postgres://localhost:6432/shop"); // connects at the first query
 * const store = new PostgresSnapshotStore(sql, options);
 * await store.close();
 * await sql.end();
 * ```
 */
export interface PostgresSnapshotStoreOptions extends SqlSnapshotStoreOptions {
  /** Use named prepared statements; turn off behind a pooler in transaction mode. Default `true`. */
  prepare?: boolean;
  /**
   * Milliseconds a query may take before it fails and is cancelled at the server, so a command
   * never waits for ever on a connection that died unnoticed (a write that timed out may still
   * have landed: the entity re-syncs before its next command). Default 10 000.
   */
  queryTimeout?: number;
}

/**
 * A {@linkcode SnapshotStore} on PostgreSQL through the npm package `postgres`: the newest
 * snapshot per type name and id (optionally the newest `keep`), as `bytea` with its version and
 * the time it was written. A save older than a stored snapshot never replaces it.
 *
 * Shares the schema of `PostgresEventLog` (same `schema` and `tablePrefix`): either one's
 * `setup()` creates both.
 *
 * @example Save and load on your own client
 * ```ts ignore
 * import postgres from "postgres";
 * import { PostgresSnapshotStore } from "@eventsourced/eventsourced/postgres";
 *
 * const sql = postgres(process.env.DATABASE_URL!);
 * const store = new PostgresSnapshotStore(sql, { keep: 3 });
 * await store.setup();
 * await store.save("cart", "c-1", 10, new Uint8Array([1, 2, 3]));
 * console.log((await store.load("cart", "c-1"))?.seqNo); // 10
 * await sql.end();
 * ```
 */
export class PostgresSnapshotStore implements SnapshotStore {
  readonly #store: SqlSnapshotStore;
  #owned: postgres.Sql | undefined;

  /**
   * Uses `sql` (a postgres.js client the caller owns). Throws a `TypeError` for an unknown
   * option or bad names, a `RangeError` for a bad value.
   */
  constructor(sql: postgres.Sql, options: PostgresSnapshotStoreOptions = {}) {
    const read = readOptions("PostgresSnapshotStore", options, RULES);
    this.#store = new SqlSnapshotStore(
      postgresClient(sql, read.prepare, positiveTimeout(read.queryTimeout)),
      read,
    );
  }

  /**
   * Opens its own client from `options` and checks that the server answers;
   * {@linkcode PostgresSnapshotStore.close} ends it.
   *
   * @example Connect and close
   * ```ts ignore
   * import { PostgresSnapshotStore } from "@eventsourced/eventsourced/postgres";
   *
   * const store = await PostgresSnapshotStore.connect({ url: "postgres://localhost/app" });
   * await store.setup();
   * await store.close();
   * ```
   */
  static async connect(
    options: PostgresConnectOptions & PostgresSnapshotStoreOptions = {},
  ): Promise<PostgresSnapshotStore> {
    const [own, connect] = splitOptions(options, RULES);
    readOptions("PostgresSnapshotStore", own, RULES); // before a client is opened
    const sql = await openClient(connect, sqlNames(own));
    const store = new PostgresSnapshotStore(sql, own);
    store.#owned = sql;
    return store;
  }

  /** Creates or upgrades the schema (idempotent); the same as the event log's `setup()`. */
  setup(): Promise<void> {
    return this.#store.setup();
  }

  /** {@inheritDoc SnapshotStore.save} */
  save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: SaveSnapshotOptions,
  ): Promise<void> {
    return this.#store.save(typeName, id, seqNo, bytes, options);
  }

  /** {@inheritDoc SnapshotStore.load} */
  load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
    return this.#store.load(typeName, id, options);
  }

  /** {@inheritDoc SnapshotStore.delete} */
  delete(typeName: string, id: string, options?: CallOptions): Promise<void> {
    return this.#store.delete(typeName, id, options);
  }

  /** Ends the client if the store opened it; a client passed in is left open. */
  async close(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.end({ timeout: 5 });
  }
}
