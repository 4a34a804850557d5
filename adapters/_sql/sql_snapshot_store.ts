// The snapshot store over SQL, shared by the PostgreSQL and PGlite adapters.

import type { CallOptions } from "../../src/event_log.ts";
import { StorageError } from "../../src/errors.ts";
import type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "../../src/snapshot_store.ts";
import {
  assertId,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
import { type SqlClient, toBytes, toNumber } from "./client.ts";
import { describeError } from "./errors.ts";
import { type NameOptions, type SqlNames, sqlNames } from "./names.ts";
import type { SqlStoreSettings } from "./options.ts";
import { setupScript } from "./schema.ts";
import { type Statements, statements } from "./statements.ts";
import { deleteStatements } from "./delete_statements.ts";
import { callSignal } from "../../src/_call_options.ts";
import { readSaveOptions } from "../../src/_persist_options.ts";

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
 * const options: SqlSnapshotStoreOptions = { schema: "shop", keep: 3, maxSnapshotBytes: 1 << 20 };
 * const sql = postgres("postgres://localhost/shop"); // connects at the first query
 * const store = new PostgresSnapshotStore(sql, options);
 * assert.throws(() => new PostgresSnapshotStore(sql, { ...options, keep: 0 }), RangeError);
 * assert.throws(() => new PostgresSnapshotStore(sql, { kept: 3 } as never), /keep/);
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
  /**
   * The largest snapshot, in bytes; a larger save is refused with a `StorageError` (reason
   * `"too-large"`) before anything is written. Default 4 MiB, like the events' `maxEventBytes`;
   * at most what the backend takes (256 MiB on PostgreSQL, 16 MiB on PGlite).
   */
  maxSnapshotBytes?: number;
}

/** The shared implementation behind `PostgresSnapshotStore` and `PgliteSnapshotStore`. */
export class SqlSnapshotStore implements SnapshotStore {
  readonly names: SqlNames;
  readonly #client: SqlClient;
  readonly #sql: Statements;
  readonly #keep: number;
  readonly #deleteSnapshots: string;
  readonly #maxBytes: number;

  /** `options` as read by `readOptions` with `snapshotRules` (options.ts). */
  constructor(client: SqlClient, options: SqlStoreSettings) {
    this.names = sqlNames(options);
    this.#client = client;
    this.#sql = statements(this.names);
    this.#keep = options.keep;
    this.#deleteSnapshots = deleteStatements(this.names).deleteSnapshots;
    this.#maxBytes = options.maxSnapshotBytes;
  }

  /** Creates or upgrades the schema (idempotent): events, snapshots and offsets. */
  async setup(): Promise<void> {
    try {
      await this.#client.exec(setupScript(this.names));
    } catch (error) {
      throw this.#describe(error, "Cannot set up the snapshot store", true);
    }
  }

  async save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: SaveSnapshotOptions,
  ): Promise<void> {
    const { signal, version } = readSaveOptions("save", options);
    assertTypeName(typeName);
    assertId(id);
    assertPositiveInteger(seqNo, "seqNo");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`Invalid bytes: expected a Uint8Array, got ${typeof bytes}`);
    }
    const what = `Cannot save the snapshot of "${typeName}/${id}" at seqNo ${seqNo}`;
    if (bytes.byteLength > this.#maxBytes) {
      throw new StorageError(
        `${what}: ${bytes.byteLength} bytes, more than maxSnapshotBytes (${this.#maxBytes}); nothing was written`,
        { reason: "too-large" },
      );
    }
    throwIfAborted(signal);
    try {
      await this.#client.query(
        this.#sql.saveSnapshot,
        [typeName, id, seqNo, bytes, this.#keep, version],
        signal,
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, what, true);
    }
  }

  async load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
    const signal = callSignal("load", options);
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(signal);
    let rows: unknown[][];
    try {
      rows = await this.#client.query(this.#sql.loadSnapshot, [typeName, id], signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, `Cannot load the snapshot of "${typeName}/${id}"`, false);
    }
    const row = rows[0];
    return row === undefined ? null : {
      seqNo: toNumber(row[0]),
      bytes: toBytes(row[1]),
      version: toNumber(row[2]),
    };
  }

  /** {@inheritDoc SnapshotStore.delete} */
  async delete(typeName: string, id: string, options?: CallOptions): Promise<void> {
    const signal = callSignal("delete", options);
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(signal);
    try {
      await this.#client.query(this.#deleteSnapshots, [typeName, id], signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, `Cannot delete the snapshots of "${typeName}/${id}"`, true);
    }
  }

  #describe(error: unknown, what: string, write: boolean): unknown {
    return describeError(error, what, {
      where: this.#client.description,
      names: this.names,
      write,
    });
  }
}
