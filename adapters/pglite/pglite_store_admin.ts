/**
 * {@linkcode PgliteStoreAdmin}: the store admin of the PGlite backend.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import { integerAtLeast, readOptions, stringOption } from "../../src/_options.ts";
import { nameLocksFor } from "../../projection/_name_locks.ts";
import { type NameOptions, sqlNames } from "../_sql/names.ts";
import { nameRules, splitOptions } from "../_sql/options.ts";
import { offsetStatements } from "../_sql/sql_offset_store.ts";
import { SqlStoreAdmin } from "../_sql/sql_store_admin.ts";
import { type PgliteClient, pgliteClient } from "./_client.ts";
import { PgliteEventLog, type PgliteOpenOptions } from "./pglite_event_log.ts";
import { PgliteSnapshotStore } from "./pglite_snapshot_store.ts";

/**
 * Options of a {@linkcode PgliteStoreAdmin}: where the tables are (as for the log and the
 * stores), and how many ids a listing reads per query.
 *
 * @example The admin of the tables with prefix "shop_"
 * ```ts
 * import type { PgliteStoreAdminOptions } from "@eventsourced/eventsourced/pglite";
 *
 * const options: PgliteStoreAdminOptions = { tablePrefix: "shop_", pageSize: 500 };
 * ```
 */
export interface PgliteStoreAdminOptions extends NameOptions {
  /** Ids per query of `entityIds`. Default 1000. */
  pageSize?: number | undefined;
}

const RULES = { ...nameRules, pageSize: integerAtLeast(1, 1000) };
const OPEN_RULES = { dataDir: stringOption<string | undefined>(undefined) };

/**
 * The administrative side of a PGlite store (see `StoreAdmin` in `./admin`): schema, entity
 * types and ids, snapshots, projection offsets, and importing events with their positions,
 * each `importEvents` call in one statement (all or nothing). Resetting a projection takes
 * its name as `PgliteOffsetStore` runners over the same PGlite instance do.
 *
 * @example Import events and list the types
 * ```ts
 * import { PgliteStoreAdmin } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const admin = await PgliteStoreAdmin.open();
 * await admin.setup();
 * await admin.importEvents([
 *   { typeName: "cart", id: "c-1", seqNo: 1, position: 1, bytes: new Uint8Array([1]), version: 1, writtenAt: 1_700_000_000_000, metadata: {} },
 * ]);
 * assert.deepEqual(await admin.entityTypes(), [
 *   { typeName: "cart", entities: 1, events: 1, headPosition: 1 },
 * ]);
 * await admin.close();
 * ```
 */
export class PgliteStoreAdmin extends SqlStoreAdmin {
  /**
   * Uses `db` (a PGlite instance the caller owns and closes). Throws a `TypeError` for an
   * unknown option or bad names, a `RangeError` for a bad `pageSize`.
   */
  constructor(db: PgliteClient, options: PgliteStoreAdminOptions = {}) {
    PgliteStoreAdmin.#check(db);
    const read = readOptions("PgliteStoreAdmin", options, RULES);
    const names = sqlNames(read);
    const nameOptions = { schema: read.schema, tablePrefix: read.tablePrefix };
    super({
      backend: "pglite",
      client: pgliteClient(db, "PGlite"),
      names,
      eventLog: new PgliteEventLog(db, nameOptions),
      snapshotStore: new PgliteSnapshotStore(db, nameOptions),
      locks: nameLocksFor(db, offsetStatements(names).table),
      pageSize: read.pageSize,
    });
  }

  static #check(db: unknown): void {
    const client = db as Partial<PgliteClient> | null;
    if (typeof client?.query !== "function" || typeof client.exec !== "function") {
      throw new TypeError(
        "Invalid db: expected a PGlite instance (new PGlite() or PGlite.create())",
      );
    }
  }

  /**
   * Opens a PGlite of its own (in `dataDir`, or in memory) that
   * {@linkcode PgliteStoreAdmin.close} closes.
   *
   * @example The admin of a data directory
   * ```ts ignore
   * import { PgliteStoreAdmin } from "@eventsourced/eventsourced/pglite";
   *
   * const admin = await PgliteStoreAdmin.open({ dataDir: "./.data/events" });
   * console.log(await admin.schema());
   * await admin.close();
   * ```
   */
  static async open(
    options: PgliteOpenOptions & PgliteStoreAdminOptions = {},
  ): Promise<PgliteStoreAdmin> {
    const [own, open] = splitOptions(options, RULES);
    sqlNames(readOptions("PgliteStoreAdmin", own, RULES));
    const { dataDir } = readOptions("PgliteStoreAdmin.open", open, OPEN_RULES);
    const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    const admin = new PgliteStoreAdmin(db, own);
    admin.#db = db;
    return admin;
  }

  #db: PGlite | undefined;

  /** Closes what the admin made, and the PGlite that {@linkcode PgliteStoreAdmin.open} opened. */
  override async close(): Promise<void> {
    await super.close();
    const db = this.#db;
    this.#db = undefined;
    await db?.close();
  }
}
