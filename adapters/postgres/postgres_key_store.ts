/**
 * {@linkcode PostgresKeyStore}: the per-entity keys of crypto-shredding on PostgreSQL through
 * postgres.js.
 *
 * @module
 */

import type postgres from "postgres";
import type { CallOptions } from "../../src/event_log.ts";
import type { KeyStore, StoredKey } from "../../shredding/key_store.ts";
import { anyValue, booleanOption, readOptions } from "../../src/_options.ts";
import { type NameOptions, sqlNames } from "../_sql/names.ts";
import { nameRules, splitOptions } from "../_sql/options.ts";
import { SqlKeyStore } from "../_sql/sql_key_store.ts";
import { positiveTimeout, postgresClient } from "./_client.ts";
import { openClient, type PostgresConnectOptions } from "./connect_options.ts";

const RULES = {
  ...nameRules,
  prepare: booleanOption(true),
  // Checked by positiveTimeout (_client.ts).
  queryTimeout: anyValue<number | undefined>(undefined),
};

/**
 * Options of a {@linkcode PostgresKeyStore}.
 *
 * @example Beside the event log, behind a pooler
 * ```ts
 * import postgres from "postgres";
 * import {
 *   PostgresKeyStore,
 *   type PostgresKeyStoreOptions,
 * } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * // The event log's tablePrefix: either one's setup() creates the keys table.
 * const options: PostgresKeyStoreOptions = { tablePrefix: "shop_", prepare: false };
 * const sql = postgres("postgres://localhost:6432/shop"); // connects at the first query
 * const store = new PostgresKeyStore(sql, options);
 * assert.throws(() => new PostgresKeyStore(sql, { prefix: "shop_" } as never), /prefix/);
 * await store.close();
 * await sql.end();
 * ```
 */
export interface PostgresKeyStoreOptions extends NameOptions {
  /** Use named prepared statements; turn off behind a pooler in transaction mode. Default `true`. */
  prepare?: boolean;
  /**
   * Milliseconds a query may take before it fails and is cancelled at the server, so no call
   * waits for ever on a connection that died unnoticed. Default 10 000.
   */
  queryTimeout?: number;
}

/**
 * A {@linkcode KeyStore} on PostgreSQL through the npm package `postgres`: one row per type name
 * and id in the `keys` table of the event log's schema (same `schema` and `tablePrefix`; either
 * one's `setup()` creates it). `create` inserts unless a row exists and then reads the row that
 * won, so concurrent creates agree on one key. `delete` removes the row: no query returns it
 * again, but its bytes linger in dead tuples until VACUUM, in the WAL until it is recycled, and in
 * backups until they expire; keep keys wrapped by a master key where that matters.
 *
 * @example Create and delete a key on your own client
 * ```ts ignore
 * import postgres from "postgres";
 * import { PostgresKeyStore } from "@eventsourced/eventsourced/postgres";
 *
 * const sql = postgres(process.env.DATABASE_URL!);
 * const store = new PostgresKeyStore(sql);
 * await store.setup();
 * const key = { keyId: crypto.getRandomValues(new Uint8Array(16)), key: new Uint8Array(32) };
 * await store.create("customer", "c-1", key);
 * console.log(await store.delete("customer", "c-1")); // true
 * await sql.end();
 * ```
 */
export class PostgresKeyStore implements KeyStore {
  readonly #store: SqlKeyStore;
  #owned: postgres.Sql | undefined;

  /**
   * Uses `sql` (a postgres.js client the caller owns). Throws a `TypeError` for an unknown
   * option or bad names, a `RangeError` for a bad value.
   */
  constructor(sql: postgres.Sql, options: PostgresKeyStoreOptions = {}) {
    const read = readOptions("PostgresKeyStore", options, RULES);
    this.#store = new SqlKeyStore(
      postgresClient(sql, read.prepare, positiveTimeout(read.queryTimeout)),
      read,
    );
  }

  /**
   * Opens its own client from `options` and checks that the server answers;
   * {@linkcode PostgresKeyStore.close} ends it.
   *
   * @example Connect and close
   * ```ts ignore
   * import { PostgresKeyStore } from "@eventsourced/eventsourced/postgres";
   *
   * const store = await PostgresKeyStore.connect({ url: "postgres://localhost/app" });
   * await store.setup();
   * await store.close();
   * ```
   */
  static async connect(
    options: PostgresConnectOptions & PostgresKeyStoreOptions = {},
  ): Promise<PostgresKeyStore> {
    const [own, connect] = splitOptions(options, RULES);
    readOptions("PostgresKeyStore", own, RULES); // before a client is opened
    const sql = await openClient(connect, sqlNames(own));
    const store = new PostgresKeyStore(sql, own);
    store.#owned = sql;
    return store;
  }

  /** Creates or upgrades the schema (idempotent); the same as the event log's `setup()`. */
  setup(): Promise<void> {
    return this.#store.setup();
  }

  /** {@inheritDoc KeyStore.get} */
  get(typeName: string, id: string, options?: CallOptions): Promise<StoredKey | null> {
    return this.#store.get(typeName, id, options);
  }

  /** {@inheritDoc KeyStore.create} */
  create(
    typeName: string,
    id: string,
    key: StoredKey,
    options?: CallOptions,
  ): Promise<StoredKey> {
    return this.#store.create(typeName, id, key, options);
  }

  /** {@inheritDoc KeyStore.delete} */
  delete(typeName: string, id: string, options?: CallOptions): Promise<boolean> {
    return this.#store.delete(typeName, id, options);
  }

  /** Ends the client if the store opened it; a client passed in is left open. */
  async close(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.end({ timeout: 5 });
  }
}
