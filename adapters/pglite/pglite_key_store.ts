/**
 * {@linkcode PgliteKeyStore}: the per-entity keys of crypto-shredding on PGlite.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type { CallOptions } from "../../src/event_log.ts";
import type { KeyStore, StoredKey } from "../../shredding/key_store.ts";
import { readOptions, stringOption } from "../../src/_options.ts";
import { type NameOptions, sqlNames } from "../_sql/names.ts";
import { nameRules, splitOptions } from "../_sql/options.ts";
import { SqlKeyStore } from "../_sql/sql_key_store.ts";
import { type PgliteClient, pgliteClient } from "./_client.ts";
import type { PgliteOpenOptions } from "./pglite_event_log.ts";

const OPEN_RULES = { dataDir: stringOption<string | undefined>(undefined) };

/**
 * Options of a {@linkcode PgliteKeyStore}: the names of the tables.
 *
 * @example The event log's prefix
 * ```ts
 * import { PgliteKeyStore, type PgliteKeyStoreOptions } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * // The event log's tablePrefix: either one's setup() creates the keys table.
 * const options: PgliteKeyStoreOptions = { tablePrefix: "shop_" };
 * await assert.rejects(PgliteKeyStore.open({ ...options, tablePrefix: "Shop-" }), TypeError);
 * ```
 */
export type PgliteKeyStoreOptions = NameOptions;

/**
 * A {@linkcode KeyStore} on PGlite with the schema of `PostgresKeyStore`: one row per type name
 * and id in the `keys` table. `delete` removes the row; its bytes may linger in the data
 * directory's dead tuples and WAL until VACUUM and checkpoints, and in any copy of the directory.
 *
 * @example Share one PGlite between the event log and the key store
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import { PgliteKeyStore } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = await PGlite.create();
 * await new PgliteEventLog(db).setup();
 * const keys = new PgliteKeyStore(db);
 * const key = { keyId: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(2) };
 * assert.deepEqual((await keys.create("customer", "c-1", key)).keyId, key.keyId);
 * assert.equal(await keys.delete("customer", "c-1"), true);
 * assert.equal(await keys.get("customer", "c-1"), null);
 * await db.close();
 * ```
 */
export class PgliteKeyStore implements KeyStore {
  readonly #store: SqlKeyStore;
  #owned: PGlite | undefined;

  /**
   * Uses `db`, a PGlite instance the caller owns. Throws a `TypeError` for a `db` that is not
   * one, an unknown option or bad names.
   */
  constructor(db: PgliteClient, options: PgliteKeyStoreOptions = {}) {
    const client = db as Partial<PgliteClient> | null;
    if (typeof client?.query !== "function" || typeof client.exec !== "function") {
      throw new TypeError(
        "Invalid db: expected a PGlite instance (new PGlite() or PGlite.create())",
      );
    }
    this.#store = new SqlKeyStore(
      pgliteClient(db, "PGlite"),
      readOptions("PgliteKeyStore", options, nameRules),
    );
  }

  /**
   * Opens its own PGlite, in memory or in `dataDir`; {@linkcode PgliteKeyStore.close} closes it.
   *
   * @example An in-memory store
   * ```ts
   * import { PgliteKeyStore } from "@eventsourced/eventsourced/pglite";
   *
   * const store = await PgliteKeyStore.open();
   * await store.setup();
   * await store.close();
   * ```
   */
  static async open(
    options: PgliteOpenOptions & PgliteKeyStoreOptions = {},
  ): Promise<PgliteKeyStore> {
    const [own, open] = splitOptions(options, nameRules);
    readOptions("PgliteKeyStore", own, nameRules);
    sqlNames(own);
    const { dataDir } = readOptions("PgliteKeyStore.open", open, OPEN_RULES);
    const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    const store = new PgliteKeyStore(db, own);
    store.#owned = db;
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

  /** Closes the PGlite instance if the store opened it. */
  async close(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.close();
  }
}
