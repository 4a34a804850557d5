/**
 * {@linkcode PostgresStoreAdmin}: the store admin of the PostgreSQL backend.
 *
 * @module
 */

import type postgres from "postgres";
import { anyValue, booleanOption, integerAtLeast, readOptions } from "../../src/_options.ts";
import { nameLocksFor } from "../../projection/_name_locks.ts";
import { type NameOptions, sqlNames } from "../_sql/names.ts";
import { nameRules, splitOptions } from "../_sql/options.ts";
import { offsetStatements } from "../_sql/sql_offset_store.ts";
import { SqlStoreAdmin } from "../_sql/sql_store_admin.ts";
import { positiveTimeout, postgresClient } from "./_client.ts";
import { openClient, type PostgresConnectOptions } from "./connect_options.ts";
import { PostgresEventLog } from "./postgres_event_log.ts";
import { PostgresSnapshotStore } from "./postgres_snapshot_store.ts";

/**
 * Options of a {@linkcode PostgresStoreAdmin}: where the tables are (as for the log and the
 * stores), how many ids a listing reads per query, and the client settings of the log.
 *
 * @example The admin of the tables in schema "shop"
 * ```ts
 * import type { PostgresStoreAdminOptions } from "@eventsourced/eventsourced/postgres";
 *
 * const options: PostgresStoreAdminOptions = { schema: "shop", pageSize: 500, queryTimeout: 60_000 };
 * ```
 */
export interface PostgresStoreAdminOptions extends NameOptions {
  /** Ids per query of `entityIds`. Default 1000. */
  pageSize?: number | undefined;
  /** Use named prepared statements; turn off behind a pooler in transaction mode. Default `true`. */
  prepare?: boolean | undefined;
  /**
   * Milliseconds a query may take before it fails and is cancelled at the server (an import
   * of many events is one query). Default 10 000.
   */
  queryTimeout?: number | undefined;
}

const RULES = {
  ...nameRules,
  pageSize: integerAtLeast(1, 1000),
  prepare: booleanOption(true),
  // Checked by positiveTimeout (_client.ts).
  queryTimeout: anyValue<number | undefined>(undefined),
};

/**
 * The administrative side of a PostgreSQL store (see `StoreAdmin` in `./admin`): schema,
 * entity types and ids, snapshots, projection offsets, and importing events with their
 * positions, each `importEvents` call in one statement (all or nothing) under the locks that
 * appends of the same type names take. Resetting a projection fails with reason `"locked"`
 * while a `PostgresOffsetStore` runner of any process holds the name.
 *
 * @example Look at a store
 * ```ts ignore
 * import { PostgresStoreAdmin } from "@eventsourced/eventsourced/postgres";
 *
 * const admin = await PostgresStoreAdmin.connect({ url: process.env.DATABASE_URL });
 * console.log(await admin.schema());
 * for (const type of await admin.entityTypes()) console.log(type);
 * await admin.close();
 * ```
 */
export class PostgresStoreAdmin extends SqlStoreAdmin {
  #owned: postgres.Sql | undefined;

  /**
   * Uses `sql` (a postgres.js client the caller owns and ends). Throws a `TypeError` for an
   * unknown option or bad names, a `RangeError` for a bad value, before any I/O.
   */
  constructor(sql: postgres.Sql, options: PostgresStoreAdminOptions = {}) {
    if (typeof sql !== "function" || typeof sql.unsafe !== "function") {
      throw new TypeError("Invalid sql: expected a postgres.js client (postgres(...))");
    }
    const read = readOptions("PostgresStoreAdmin", options, RULES);
    const names = sqlNames(read);
    const queryTimeout = positiveTimeout(read.queryTimeout);
    const clientOptions = {
      schema: read.schema,
      tablePrefix: read.tablePrefix,
      prepare: read.prepare,
      queryTimeout,
    };
    super({
      backend: "postgres",
      client: postgresClient(sql, read.prepare, queryTimeout),
      names,
      eventLog: new PostgresEventLog(sql, clientOptions),
      snapshotStore: new PostgresSnapshotStore(sql, clientOptions),
      locks: nameLocksFor(sql, offsetStatements(names).table),
      pageSize: read.pageSize,
    });
  }

  /**
   * Opens its own client from `options` (URL, TLS, pool size), checks that the server
   * answers, and returns an admin that {@linkcode PostgresStoreAdmin.close} closes with the
   * client. Rejects with an error naming the server and the cause when it cannot connect.
   *
   * @example Connect and read the schema version
   * ```ts ignore
   * import { PostgresStoreAdmin } from "@eventsourced/eventsourced/postgres";
   *
   * const admin = await PostgresStoreAdmin.connect({ url: "postgres://localhost/app" });
   * console.log(await admin.schema());
   * await admin.close();
   * ```
   */
  static async connect(
    options: PostgresConnectOptions & PostgresStoreAdminOptions = {},
  ): Promise<PostgresStoreAdmin> {
    const [own, connect] = splitOptions(options, RULES);
    const read = readOptions("PostgresStoreAdmin", own, RULES); // before a client is opened
    positiveTimeout(read.queryTimeout);
    const sql = await openClient(connect, sqlNames(read));
    const admin = new PostgresStoreAdmin(sql, own);
    admin.#owned = sql;
    return admin;
  }

  /** Closes what the admin made, and the client that {@linkcode PostgresStoreAdmin.connect} opened. */
  override async close(): Promise<void> {
    await super.close();
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.end({ timeout: 5 });
  }
}
