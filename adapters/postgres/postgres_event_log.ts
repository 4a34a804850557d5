/**
 * {@linkcode PostgresEventLog}: the event log on PostgreSQL through postgres.js.
 *
 * @module
 */

import type postgres from "postgres";
import type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "../../src/event_log.ts";
import { anyValue, booleanOption, integerAtLeast, readOptions } from "../../src/_options.ts";
import { SqlEventLog, type SqlEventLogOptions } from "../_sql/sql_event_log.ts";
import { logRules, splitOptions } from "../_sql/options.ts";
import { positiveTimeout, postgresClient } from "./_client.ts";
import { openClient, type PostgresConnectOptions } from "./connect_options.ts";
import { sqlNames } from "../_sql/names.ts";
import { assertInstrumentation } from "../../src/_observed.ts";

/** The largest `maxEventBytes` on PostgreSQL: a bytea takes up to 1 GB, a batch a quarter. */
export const POSTGRES_MAX_BYTES = 256 * 1024 * 1024;

const RULES = {
  ...logRules(POSTGRES_MAX_BYTES),
  concurrentBatches: integerAtLeast(1, 4),
  prepare: booleanOption(true),
  // Checked by positiveTimeout (_client.ts).
  queryTimeout: anyValue<number | undefined>(undefined),
};

/**
 * Options of a {@linkcode PostgresEventLog}.
 *
 * @example Behind PgBouncer in transaction mode
 * ```ts
 * import postgres from "postgres";
 * import {
 *   PostgresEventLog,
 *   type PostgresEventLogOptions,
 * } from "@eventsourced/eventsourced/postgres";
 *
 * const options: PostgresEventLogOptions = {
 *   tablePrefix: "shop_",
 *   concurrentBatches: 8,
 *   prepare: false, // the pooler cannot keep named prepared statements
 *   notify: false, // nor LISTEN; live reads poll
 * };
 * const sql = postgres("postgres://localhost:6432/shop"); // connects at the first query
 * const log = new PostgresEventLog(sql, options);
 * await log.close();
 * await sql.end();
 * ```
 */
export interface PostgresEventLogOptions extends SqlEventLogOptions {
  /**
   * Group-commit transactions in flight at once. Appends of one type name wait for each other
   * on the server anyway (that is how positions stay dense and gap-free), so one batch of each type name
   * is in flight; this bounds batches of different type names. Default 4.
   */
  concurrentBatches?: number;
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
 * An {@linkcode EventLog} on PostgreSQL (≥ 13) through the npm package `postgres`.
 *
 * - `seqNo` is dense per entity with a primary key on (type name, id, seqNo); a stale
 *   `lastSeqNo` is a `ConcurrencyError` with the expected and the actual seqNo.
 * - `position` is dense per type name and gap-free for readers even when writers commit out
 *   of order: an append numbers its events after the last committed position of their type
 *   name, under a per-type-name advisory lock that it holds until commit, and a unique index
 *   refuses a position twice.
 * - Group commit: persists of different entities that wait at the same time are written in
 *   one transaction and one round trip, each with its own concurrency check.
 * - Reads stream page by page with backpressure; live reads wake on `LISTEN`/`NOTIFY` and also
 *   poll, so a lost notification only delays them.
 * - Each event stores its version and metadata in columns of its own (null when absent, so an
 *   event without metadata stores nothing more). `writtenAt` is the server's
 *   `clock_timestamp()` taken after the append saw the entity's last event, one per
 *   transaction: it never goes back within an entity while the server's clock does not.
 *
 * Call {@linkcode PostgresEventLog.setup} once to create the tables. The log uses the client
 * it is given and never ends it; {@linkcode PostgresEventLog.connect} builds a client that
 * {@linkcode PostgresEventLog.close} ends.
 *
 * @example Persist and read back on your own client
 * ```ts ignore
 * import postgres from "postgres";
 * import { PostgresEventLog } from "@eventsourced/eventsourced/postgres";
 *
 * const sql = postgres(process.env.DATABASE_URL!);
 * const log = new PostgresEventLog(sql, { tablePrefix: "shop_" });
 * await log.setup();
 * await log.persist("cart", "c-1", null, [new TextEncoder().encode('{"added":"apple"}')]);
 * for await (const event of log.eventsById("cart", "c-1", 1)) console.log(event.seqNo);
 * await log.close();
 * await sql.end();
 * ```
 */
export class PostgresEventLog implements EventLog {
  readonly #log: SqlEventLog;
  #owned: postgres.Sql | undefined;

  /**
   * Uses `sql` (a postgres.js client the caller owns). Throws a `TypeError` for an unknown
   * option or a bad schema or table prefix, a `RangeError` for a bad value, before any I/O.
   */
  constructor(sql: postgres.Sql, options: PostgresEventLogOptions = {}) {
    const read = readOptions("PostgresEventLog", options, RULES);
    assertInstrumentation("PostgresEventLog", read.instrumentation);
    this.#log = new SqlEventLog(
      postgresClient(sql, read.prepare, positiveTimeout(read.queryTimeout)),
      read,
      // Without prepared statements every plain append would be planned anew: the functions'
      // cached plans are then the cheaper way.
      {
        concurrency: read.concurrentBatches,
        plainAppends: read.prepare,
        plainChecks: read.prepare,
        backend: "postgres",
      },
    );
  }

  /**
   * Opens its own client from `options` (URL, TLS, pool size), checks that the server
   * answers, and returns a log that {@linkcode PostgresEventLog.close} closes with the client.
   * Rejects with an error naming the server and the cause when it cannot connect.
   *
   * @example Connect, set up, close
   * ```ts ignore
   * import { PostgresEventLog } from "@eventsourced/eventsourced/postgres";
   *
   * const log = await PostgresEventLog.connect({ url: "postgres://localhost/app", max: 20 });
   * await log.setup();
   * await log.close();
   * ```
   */
  static async connect(
    options: PostgresConnectOptions & PostgresEventLogOptions = {},
  ): Promise<PostgresEventLog> {
    const [own, connect] = splitOptions(options, RULES);
    readOptions("PostgresEventLog", own, RULES); // before a client is opened
    const sql = await openClient(connect, sqlNames(own));
    const log = new PostgresEventLog(sql, own);
    log.#owned = sql;
    return log;
  }

  /**
   * Creates or upgrades the schema (events, snapshots, projection offsets, append functions);
   * safe to call again and from several processes at once. A schema of an earlier release is
   * upgraded in place, its events kept (they read as version 1 without metadata); a schema
   * created by a newer release is refused.
   */
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

  /** Stops listening for notifications and, if the log opened its client, ends it. */
  async close(): Promise<void> {
    await this.#log.close();
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.end({ timeout: 5 });
  }
}
