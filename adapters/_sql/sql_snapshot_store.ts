// The snapshot store over SQL, shared by the PostgreSQL and PGlite adapters.

import type { CallOptions } from "../../src/event_log.ts";
import type { Snapshot, SnapshotStore } from "../../src/snapshot_store.ts";
import {
  assertId,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
import { type SqlClient, toBytes, toNumber } from "./client.ts";
import { describeError } from "./errors.ts";
import { type NameOptions, type SqlNames, sqlNames } from "./names.ts";
import { setupScript } from "./schema.ts";
import { type Statements, statements } from "./statements.ts";

/**
 * Options shared by the SQL snapshot stores.
 *
 * @example Keep the three newest snapshots
 * ```ts
 * import postgres from "postgres";
 * import {
 *   PostgresSnapshotStore,
 *   type SqlSnapshotStoreOptions,
 * } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const options: SqlSnapshotStoreOptions = { schema: "shop", keep: 3 };
 * const sql = postgres("postgres://localhost/shop"); // connects at the first query
 * const store = new PostgresSnapshotStore(sql, options);
 * assert.throws(() => new PostgresSnapshotStore(sql, { ...options, keep: 0 }), RangeError);
 * await store.close();
 * await sql.end();
 * ```
 */
export interface SqlSnapshotStoreOptions extends NameOptions {
  /**
   * How many snapshots to keep per entity, newest first; `load` always returns the newest.
   * Default 1.
   */
  keep?: number;
}

/** The shared implementation behind `PostgresSnapshotStore` and `PgliteSnapshotStore`. */
export class SqlSnapshotStore implements SnapshotStore {
  readonly names: SqlNames;
  readonly #client: SqlClient;
  readonly #sql: Statements;
  readonly #keep: number;

  constructor(client: SqlClient, options: SqlSnapshotStoreOptions) {
    this.names = sqlNames(options);
    this.#client = client;
    this.#sql = statements(this.names);
    this.#keep = options.keep ?? 1;
    assertPositiveInteger(this.#keep, "keep");
  }

  /** Creates the schema when missing (idempotent). */
  async setup(): Promise<void> {
    try {
      await this.#client.exec(setupScript(this.names));
    } catch (error) {
      throw describeError(
        error,
        "Cannot set up the snapshot store",
        this.#client.description,
        this.names,
      );
    }
  }

  async save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: CallOptions,
  ): Promise<void> {
    assertTypeName(typeName);
    assertId(id);
    assertPositiveInteger(seqNo, "seqNo");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`Invalid bytes: expected a Uint8Array, got ${typeof bytes}`);
    }
    throwIfAborted(options?.signal);
    try {
      await this.#client.query(
        this.#sql.saveSnapshot,
        [typeName, id, seqNo, bytes, this.#keep],
        options?.signal,
      );
    } catch (error) {
      if (options?.signal?.aborted) throw options.signal.reason;
      throw describeError(
        error,
        `Cannot save the snapshot of "${typeName}/${id}" at seqNo ${seqNo}`,
        this.#client.description,
        this.names,
      );
    }
  }

  async load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(options?.signal);
    let rows: unknown[][];
    try {
      rows = await this.#client.query(this.#sql.loadSnapshot, [typeName, id], options?.signal);
    } catch (error) {
      if (options?.signal?.aborted) throw options.signal.reason;
      throw describeError(
        error,
        `Cannot load the snapshot of "${typeName}/${id}"`,
        this.#client.description,
        this.names,
      );
    }
    const row = rows[0];
    return row === undefined ? null : { seqNo: toNumber(row[0]), bytes: toBytes(row[1]) };
  }
}
