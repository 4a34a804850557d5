/**
 * {@linkcode PgliteSnapshotStore}: snapshots on PGlite.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type { CallOptions } from "../../src/event_log.ts";
import type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "../../src/snapshot_store.ts";
import { readOptions, stringOption } from "../../src/_options.ts";
import { sqlNames } from "../_sql/names.ts";
import { snapshotRules, splitOptions } from "../_sql/options.ts";
import { SqlSnapshotStore, type SqlSnapshotStoreOptions } from "../_sql/sql_snapshot_store.ts";
import { type PgliteClient, pgliteClient } from "./_client.ts";
import { PGLITE_MAX_BYTES, type PgliteOpenOptions } from "./pglite_event_log.ts";

const RULES = snapshotRules(PGLITE_MAX_BYTES);
const OPEN_RULES = { dataDir: stringOption<string | undefined>(undefined) };

/**
 * Options of a {@linkcode PgliteSnapshotStore}: those of every SQL snapshot store.
 *
 * @example Keep the two newest snapshots
 * ```ts
 * import {
 *   PgliteSnapshotStore,
 *   type PgliteSnapshotStoreOptions,
 * } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * // The event log's tablePrefix: either one's setup() creates both tables.
 * const options: PgliteSnapshotStoreOptions = { tablePrefix: "shop_", keep: 2 };
 * await assert.rejects(PgliteSnapshotStore.open({ ...options, tablePrefix: "Shop-" }), TypeError);
 * ```
 */
export type PgliteSnapshotStoreOptions = SqlSnapshotStoreOptions;

/**
 * A {@linkcode SnapshotStore} on PGlite with the schema of `PostgresSnapshotStore`: the newest
 * snapshot per type name and id (or the newest `keep`); an older save never replaces a newer.
 *
 * @example Share one PGlite between the event log and the snapshot store
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { PgliteEventLog, PgliteSnapshotStore } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = await PGlite.create();
 * const eventLog = new PgliteEventLog(db);
 * const snapshots = new PgliteSnapshotStore(db);
 * await eventLog.setup();
 * await snapshots.save("cart", "c-1", 5, new Uint8Array([42]));
 * assert.equal((await snapshots.load("cart", "c-1"))?.seqNo, 5);
 * await db.close();
 * ```
 */
export class PgliteSnapshotStore implements SnapshotStore {
  readonly #store: SqlSnapshotStore;
  #owned: PGlite | undefined;

  /** Uses `db`, a PGlite instance the caller owns. Throws a `TypeError` for bad names. */
  constructor(db: PgliteClient, options: PgliteSnapshotStoreOptions = {}) {
    this.#store = new SqlSnapshotStore(
      pgliteClient(db, "PGlite"),
      readOptions("PgliteSnapshotStore", options, RULES),
    );
  }

  /**
   * Opens its own PGlite, in memory or in `dataDir`; {@linkcode PgliteSnapshotStore.close}
   * closes it.
   *
   * @example An in-memory store
   * ```ts
   * import { PgliteSnapshotStore } from "@eventsourced/eventsourced/pglite";
   *
   * const store = await PgliteSnapshotStore.open();
   * await store.setup();
   * await store.close();
   * ```
   */
  static async open(
    options: PgliteOpenOptions & PgliteSnapshotStoreOptions = {},
  ): Promise<PgliteSnapshotStore> {
    const [own, open] = splitOptions(options, RULES);
    readOptions("PgliteSnapshotStore", own, RULES);
    sqlNames(own);
    const { dataDir } = readOptions("PgliteSnapshotStore.open", open, OPEN_RULES);
    const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    const store = new PgliteSnapshotStore(db, own);
    store.#owned = db;
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

  /** Closes the PGlite instance if the store opened it. */
  async close(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.close();
  }
}
