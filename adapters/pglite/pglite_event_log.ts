/**
 * {@linkcode PgliteEventLog}: the event log on PGlite, PostgreSQL in WebAssembly.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "../../src/event_log.ts";
import { readOptions, stringOption } from "../../src/_options.ts";
import { SqlEventLog, type SqlEventLogOptions } from "../_sql/sql_event_log.ts";
import { logRules, splitOptions } from "../_sql/options.ts";
import { type PgliteClient, pgliteClient } from "./_client.ts";
import { sqlNames } from "../_sql/names.ts";
import { assertInstrumentation } from "../../src/_observed.ts";

/**
 * The largest `maxEventBytes` on PGlite: its WebAssembly heap is small, and a far larger value
 * (100 MB) ended the process instead of failing the call.
 */
export const PGLITE_MAX_BYTES = 16 * 1024 * 1024;

const RULES = logRules(PGLITE_MAX_BYTES);
const OPEN_RULES = { dataDir: stringOption<string | undefined>(undefined) };

/**
 * Options of a {@linkcode PgliteEventLog}: those of every SQL event log.
 *
 * @example Poll less often
 * ```ts
 * import { PgliteEventLog, type PgliteEventLogOptions } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * // Live reads wake when this log appends; the poll only finds other writers' events.
 * const options: PgliteEventLogOptions = { tablePrefix: "shop_", pollInterval: 2_000 };
 * await assert.rejects(PgliteEventLog.open({ ...options, schema: "Shop" }), TypeError);
 * ```
 */
export type PgliteEventLogOptions = SqlEventLogOptions;

/**
 * Options of {@linkcode PgliteEventLog.open}.
 *
 * @example Keep the events in a data directory
 * ```ts
 * import {
 *   type PgliteEventLogOptions,
 *   PgliteEventLog,
 *   type PgliteOpenOptions,
 * } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const options: PgliteOpenOptions & PgliteEventLogOptions = {
 *   dataDir: "./.data/events", // a later run opens the same events again
 *   tablePrefix: "shop_",
 * };
 * // Bad names are refused before PGlite creates the directory.
 * await assert.rejects(PgliteEventLog.open({ ...options, tablePrefix: "Shop-" }), TypeError);
 * ```
 */
export interface PgliteOpenOptions {
  /**
   * Where PGlite keeps its files, e.g. `"./.data/events"` (created when missing). Omitted: in
   * memory, gone when closed.
   */
  dataDir?: string;
}

/**
 * An {@linkcode EventLog} on PGlite (`@electric-sql/pglite`): the same schema and SQL as
 * `PostgresEventLog`, embedded, no server; in memory or in a data directory.
 *
 * PGlite has one connection and runs one statement at a time, so group commit matters even
 * more here: persists of different entities that wait together are written by one statement.
 * Live reads wake when this log appends, and poll otherwise. Versions, metadata and
 * `writtenAt` are stored as on PostgreSQL.
 *
 * @example Persist and read back in memory
 * ```ts
 * import { PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const log = await PgliteEventLog.open();
 * await log.setup();
 * await log.persist("cart", "c-1", null, [new Uint8Array([1]), new Uint8Array([2])]);
 * const seqNos = [];
 * for await (const event of log.eventsById("cart", "c-1", 1)) seqNos.push(event.seqNo);
 * assert.deepEqual(seqNos, [1, 2]);
 * await log.close();
 * ```
 *
 * @example Metadata and versions
 * ```ts
 * import { PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const log = await PgliteEventLog.open();
 * await log.setup();
 * const metadata = { commandId: "c-7", correlationId: "order-1", headers: { user: "ada" } };
 * await log.persist("cart", "c-1", null, [new Uint8Array([1])], { metadata, version: 2 });
 * for await (const event of log.eventsById("cart", "c-1", 1)) {
 *   assert.deepEqual(event.metadata, metadata);
 *   assert.equal(event.version, 2);
 *   assert.ok(Math.abs(event.writtenAt - Date.now()) < 60_000); // the database's clock
 * }
 * await log.close();
 * ```
 */
export class PgliteEventLog implements EventLog {
  readonly #log: SqlEventLog;
  #owned: PGlite | undefined;

  /**
   * Uses `db`, a PGlite instance the caller owns (share it with a `PgliteSnapshotStore`).
   * Throws a `TypeError` for a bad schema or table prefix.
   */
  constructor(db: PgliteClient, options: PgliteEventLogOptions = {}) {
    // PGlite plans each plain statement anew, yet the plain appends (a bare INSERT, mostly) beat
    // the functions' cached plans; an append with a check does not (its subqueries cost more to
    // plan than the function's call), so those go through the functions (bench/README.md).
    const read = readOptions("PgliteEventLog", options, RULES);
    assertInstrumentation("PgliteEventLog", read.instrumentation);
    this.#log = new SqlEventLog(pgliteClient(db, "PGlite"), read, {
      concurrency: 1,
      plainAppends: true,
      plainChecks: false,
      backend: "pglite",
    });
  }

  /**
   * Opens its own PGlite, in memory or in `dataDir`; {@linkcode PgliteEventLog.close} closes
   * it.
   *
   * @example A log in a data directory
   * ```ts ignore
   * import { PgliteEventLog } from "@eventsourced/eventsourced/pglite";
   *
   * const log = await PgliteEventLog.open({ dataDir: "./.data/events" });
   * await log.setup();
   * await log.close();
   * ```
   */
  static async open(
    options: PgliteOpenOptions & PgliteEventLogOptions = {},
  ): Promise<PgliteEventLog> {
    const [own, open] = splitOptions(options, RULES);
    readOptions("PgliteEventLog", own, RULES);
    sqlNames(own);
    const { dataDir } = readOptions("PgliteEventLog.open", open, OPEN_RULES);
    const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    const log = new PgliteEventLog(db, own);
    log.#owned = db;
    return log;
  }

  /** Creates or upgrades the schema (idempotent): events, snapshots, projection offsets. */
  setup(): Promise<void> {
    return this.#log.setup();
  }

  /** {@inheritDoc EventLog.persist} */
  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number> {
    return this.#log.persist(typeName, id, lastSeqNo, events, options);
  }

  /** {@inheritDoc EventLog.lastSeqNo} */
  lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    return this.#log.lastSeqNo(typeName, id, options);
  }

  /** {@inheritDoc EventLog.countAfter} */
  countAfter(typeName: string, position: number, options?: CallOptions): Promise<number> {
    return this.#log.countAfter(typeName, position, options);
  }

  /**
   * {@inheritDoc EventLog.deleteEvents} One statement; it also raises the type name's position
   * floor, so a deleted position is never given again.
   */
  deleteEvents(
    typeName: string,
    id: string,
    toSeqNo: number,
    options?: CallOptions,
  ): Promise<number> {
    return this.#log.deleteEvents(typeName, id, toSeqNo, options);
  }

  /**
   * {@inheritDoc EventLog.deleteEntity} Run it only while the entity runs nowhere: another
   * process's log may remember the entity's last seqNo and would append after it.
   */
  deleteEntity(typeName: string, id: string, options?: CallOptions): Promise<number> {
    return this.#log.deleteEntity(typeName, id, options);
  }

  /** {@inheritDoc EventLog.eventsById} */
  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    return this.#log.eventsById(typeName, id, fromSeqNo, options);
  }

  /** {@inheritDoc EventLog.eventsByType} */
  eventsByType(
    typeName: string,
    fromPosition: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    return this.#log.eventsByType(typeName, fromPosition, options);
  }

  /** Closes the PGlite instance if the log opened it; one passed in is left open. */
  async close(): Promise<void> {
    await this.#log.close();
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.close();
  }
}
