// The event log over SQL, shared by the PostgreSQL and PGlite adapters: they differ only in the
// driver they wrap (see client.ts) and in their defaults. Appends are sql_append.ts; reads are
// pages (paged_stream.ts) woken by live_wakeups.ts.

import type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "../../src/event_log.ts";
import {
  assertId,
  assertNonNegativeInteger,
  assertPersistArguments,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
import { booleanOption, readOptions, signalOption } from "../../src/_options.ts";
import { type SqlClient, toNumber } from "./client.ts";
import { closedError, describeError } from "./errors.ts";
import type { NameOptions, SqlNames } from "./names.ts";
import { sqlNames } from "./names.ts";
import type { SqlLogSettings } from "./options.ts";
import { batchObserver } from "./batch_observer.ts";
import type { Instrumentation } from "../../src/instrumentation.ts";
import { PAGE_BYTES, unpackPage } from "./packed_page.ts";
import { LiveWakeups } from "./live_wakeups.ts";
import { pagedStream, type PageSource } from "./paged_stream.ts";
import { setupScript } from "./schema.ts";
import { SqlAppender } from "./sql_append.ts";
import { type Statements, statements } from "./statements.ts";
import { type DeleteStatements, deleteStatements } from "./delete_statements.ts";
import { callSignal } from "../../src/_call_options.ts";
import { readPersistOptions } from "../../src/_persist_options.ts";

/**
 * Options shared by the SQL event logs.
 *
 * @example Tune reads and group commit
 * ```ts
 * import postgres from "postgres";
 * import { PostgresEventLog, type SqlEventLogOptions } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const options: SqlEventLogOptions = {
 *   tablePrefix: "shop_",
 *   pollInterval: 100,
 *   notifyInterval: 20,
 *   pageSize: 500,
 *   maxBatchSize: 200,
 *   maxEventBytes: 64 * 1024,
 * };
 * const sql = postgres("postgres://localhost/shop"); // connects at the first query
 * const log = new PostgresEventLog(sql, options);
 * assert.throws(() => new PostgresEventLog(sql, { ...options, pageSize: 0 }), RangeError);
 * assert.throws(() => new PostgresEventLog(sql, { ...options, notifyInterval: -1 }), RangeError);
 * assert.throws(() => new PostgresEventLog(sql, { pollIntervall: 100 } as never), /pollInterval/);
 * await log.close();
 * await sql.end();
 * ```
 */
export interface SqlEventLogOptions extends NameOptions {
  /**
   * How often live reads that have caught up look for new events, in ms; the idle readers of
   * one type name share one poll. Default 500.
   */
  pollInterval?: number;
  /** Events per read round trip. Default 1000. */
  pageSize?: number;
  /** Most entities written by one group-commit transaction. Default 1000. */
  maxBatchSize?: number;
  /**
   * Send `NOTIFY` after appends so live readers in other processes wake without waiting for
   * their poll. Default `true`.
   */
  notify?: boolean;
  /**
   * Most milliseconds between two notifications of one type name: an append carries `NOTIFY`
   * only when its type name was not announced for that long, and events that committed without
   * one are announced at most this long after their commit. 0 notifies with every append.
   * Live readers of this log are woken at once either way. Default 5.
   */
  notifyInterval?: number;
  /**
   * The largest event, in bytes; a persist with a larger one is refused with a `StorageError`
   * (reason `"too-large"`) before anything is written. Default 4 MiB; at most what the backend
   * takes (256 MiB on PostgreSQL, 16 MiB on PGlite).
   */
  maxEventBytes?: number;
  /**
   * Hooks told of every group-commit batch (`persistBatch`: its writes, events and bytes, and
   * when it settled); `openTelemetry()` of `@eventsourced/eventsourced/opentelemetry` makes
   * them spans and metrics. Default: none, and nothing is measured.
   */
  instrumentation?: Instrumentation | undefined;
}

/** The settings a driver adapter fixes. */
export interface SqlEventLogSettings {
  /** Group-commit batches in flight at once (each of other type names). */
  readonly concurrency: number;
  /**
   * Whether an append that needs no check goes as one plain statement (statements.ts) rather
   * than through the plpgsql functions, whose plans the server keeps.
   */
  readonly plainAppends: boolean;
  /**
   * Whether the plain statements also take appends whose entities need a check (the check in
   * the statement), rather than leaving those to the functions.
   */
  readonly plainChecks: boolean;
  /** The backend's name in `Instrumentation.persistBatch`: `"postgres"`, `"pglite"`. */
  readonly backend: string;
}

/** The shared implementation behind `PostgresEventLog` and `PgliteEventLog`. */
export class SqlEventLog implements EventLog {
  readonly names: SqlNames;
  readonly #client: SqlClient;
  readonly #sql: Statements;
  readonly #deletes: DeleteStatements;
  readonly #pageSize: number;
  readonly #maxEventBytes: number;
  readonly #appender: SqlAppender;
  readonly #wakeups: LiveWakeups;
  #listening: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;

  /** `options` as read by `readOptions` with `logRules` (options.ts). */
  constructor(client: SqlClient, options: SqlLogSettings, settings: SqlEventLogSettings) {
    this.names = sqlNames(options);
    this.#client = client;
    this.#sql = statements(this.names);
    this.#deletes = deleteStatements(this.names);
    this.#pageSize = options.pageSize;
    this.#maxEventBytes = options.maxEventBytes;
    this.#wakeups = new LiveWakeups(options.pollInterval, async (typeName) => {
      const rows = await client.query(this.#sql.head, [typeName]);
      return toNumber(rows[0]?.[0] ?? 0);
    });
    this.#appender = new SqlAppender(
      client,
      this.#sql,
      {
        concurrency: settings.concurrency,
        plainAppends: settings.plainAppends,
        plainChecks: settings.plainChecks,
        maxBatchSize: options.maxBatchSize,
        notify: options.notify,
        notifyInterval: options.notifyInterval,
        observeBatch: batchObserver(options.instrumentation, settings.backend),
      },
      (typeNames) => {
        for (const typeName of typeNames) this.#wakeups.wake(typeName);
      },
    );
  }

  /** Creates or upgrades the schema (idempotent): events, snapshots and offsets. */
  async setup(): Promise<void> {
    try {
      if (this.#closed) throw closedError("Cannot set up the event log", "event log");
      await this.#client.exec(setupScript(this.names));
    } catch (error) {
      throw this.#describe(error, "Cannot set up the event log", true);
    }
  }

  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number> {
    try {
      const call = readPersistOptions("persist", options);
      const signal = call.signal;
      assertPersistArguments(typeName, id, lastSeqNo, events, this.#maxEventBytes, signal);
      const what = () => `Cannot persist events for "${typeName}/${id}"`;
      if (this.#closed) throw closedError(what(), "event log");
      return this.#appender.append(typeName, id, lastSeqNo, events, call).catch((error) => {
        // Aborted while queued: nothing was sent.
        if (signal?.aborted && error === signal.reason) throw error;
        throw this.#describe(error, what(), true);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    const signal = callSignal("lastSeqNo", options);
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(signal);
    const rows = await this.#read(
      () => this.#client.query(this.#sql.lastSeqNo, [typeName, id], signal),
      `Cannot read the last seqNo of "${typeName}/${id}"`,
      signal,
    );
    const value = rows[0]?.[0];
    return value === null || value === undefined ? null : toNumber(value);
  }

  /** {@inheritDoc EventLog.countAfter} */
  async countAfter(typeName: string, position: number, options?: CallOptions): Promise<number> {
    const signal = callSignal("countAfter", options);
    assertTypeName(typeName);
    assertNonNegativeInteger(position, "position");
    throwIfAborted(signal);
    // Positions are 1, 2, 3 … per type name (positions.ts), so the last event's position minus
    // the position is the count, from one index probe; after a deletion it counts positions,
    // the deleted events among them, and is 0 from the last event on.
    const rows = await this.#read(
      () => this.#client.query(this.#sql.lastEvent, [typeName], signal),
      `Cannot count the events of "${typeName}" after position ${position}`,
      signal,
    );
    return Math.max(0, toNumber(rows[0]![0]) - position);
  }

  /** {@inheritDoc EventLog.deleteEvents} */
  async deleteEvents(
    typeName: string,
    id: string,
    toSeqNo: number,
    options?: CallOptions,
  ): Promise<number> {
    const signal = callSignal("deleteEvents", options);
    assertTypeName(typeName);
    assertId(id);
    assertPositiveInteger(toSeqNo, "toSeqNo");
    return await this.#delete(
      typeName,
      id,
      this.#deletes.deleteEvents,
      [typeName, id, toSeqNo],
      `Cannot delete the events of "${typeName}/${id}" up to seqNo ${toSeqNo}`,
      signal,
    );
  }

  /** {@inheritDoc EventLog.deleteEntity} */
  async deleteEntity(typeName: string, id: string, options?: CallOptions): Promise<number> {
    const signal = callSignal("deleteEntity", options);
    assertTypeName(typeName);
    assertId(id);
    return await this.#delete(
      typeName,
      id,
      this.#deletes.deleteEntity,
      [typeName, id],
      `Cannot delete the entity "${typeName}/${id}"`,
      signal,
    );
  }

  // A deletion is one statement, so it happened whole or not at all; this log then forgets what
  // it knew of the entity, whatever the outcome.
  async #delete(
    typeName: string,
    id: string,
    text: string,
    params: (string | number)[],
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    throwIfAborted(signal);
    try {
      if (this.#closed) throw closedError(what, "event log");
      const rows = await this.#client.query(text, params, signal);
      return toNumber(rows[0]?.[0] ?? 0);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, what, true);
    } finally {
      this.#appender.deleted(typeName, id);
    }
  }

  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    const read = readReadOptions(options);
    assertTypeName(typeName);
    assertId(id);
    assertNonNegativeInteger(fromSeqNo, "fromSeqNo");
    const { eventsByIdFirst, eventsById } = this.#sql;
    return this.#stream(typeName, id, Math.max(fromSeqNo, 1), read, {
      what: `Cannot read the events of "${typeName}/${id}"`,
      first: (from, limit) => [eventsByIdFirst, [typeName, id, from, limit, PAGE_BYTES]],
      page: (from, to, limit) => [eventsById, [typeName, id, from, to, limit, PAGE_BYTES]],
      key: (event) => event.seqNo,
    });
  }

  eventsByType(
    typeName: string,
    fromPosition: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    const read = readReadOptions(options);
    assertTypeName(typeName);
    assertNonNegativeInteger(fromPosition, "fromPosition");
    const { eventsByTypeFirst, eventsByType } = this.#sql;
    return this.#stream(typeName, undefined, Math.max(fromPosition, 1), read, {
      what: `Cannot read the events of type "${typeName}"`,
      first: (from, limit) => [eventsByTypeFirst, [typeName, from, limit, PAGE_BYTES]],
      page: (from, to, limit) => [eventsByType, [typeName, from, to, limit, PAGE_BYTES]],
      key: (event) => event.position,
    });
  }

  /** Stops listening and polling (live reads end with a `closed` error); does not close the client. */
  async close(): Promise<void> {
    if (!this.#closed) await this.#appender.flush();
    this.#closed = true;
    this.#wakeups.close();
    const unlisten = await this.#listening?.catch(() => undefined);
    this.#listening = undefined;
    await unlisten?.().catch(() => {});
  }

  #stream(
    typeName: string,
    id: string | undefined,
    from: number,
    options: { live: boolean; signal: AbortSignal | undefined },
    query: {
      what: string;
      first: (from: number, limit: number) => [string, (string | number)[]];
      page: (from: number, to: number, limit: number) => [string, (string | number)[]];
      key: (event: PersistedEvent) => number;
    },
  ): ReadableStream<PersistedEvent> {
    const client = this.#client;
    const wakeups = this.#wakeups;
    // The mark of the last read, for a live read that waits (live_wakeups.ts).
    let mark = -1;
    const run = async (text: string, params: (string | number)[], signal: AbortSignal) => {
      mark = wakeups.mark(typeName);
      return await this.#read(() => client.query(text, params, signal), query.what, signal);
    };
    const source: PageSource = {
      first: async (from, limit, signal) => {
        const rows = await run(...query.first(from, limit), signal);
        const head = rows[0]?.[0];
        const page = unpackPage(rows[0], 1, limit, typeName, id);
        return { ...page, head: head === null || head === undefined ? null : toNumber(head) };
      },
      page: async (from, to, limit, signal) => {
        const rows = await run(...query.page(from, to, limit), signal);
        return unpackPage(rows[0], 0, limit, typeName, id);
      },
      key: query.key,
      wait: (signal) => wakeups.wait(typeName, mark, signal),
    };
    if (options.live) this.#listen();
    return pagedStream(source, from, { ...options, pageSize: this.#pageSize });
  }

  async #read(
    run: () => Promise<unknown[][]>,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<unknown[][]> {
    try {
      if (this.#closed) throw closedError(what, "event log");
      return await run();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#describe(error, what, false);
    }
  }

  #describe(error: unknown, what: string, write: boolean): unknown {
    return describeError(error, what, {
      where: this.#client.description,
      names: this.names,
      write,
    });
  }

  // Notifications are only a hint: if LISTEN fails (a pooler in transaction mode, say), live
  // reads still see every event at the next poll.
  #listen(): void {
    const listen = this.#client.listen;
    if (this.#listening || !listen || this.#closed) return;
    this.#listening = listen.call(
      this.#client,
      this.names.channel,
      (typeName) => this.#wakeups.wake(typeName),
    ).catch(() => undefined);
  }
}

function readReadOptions(
  options: ReadOptions | undefined,
): { live: boolean; signal: AbortSignal | undefined } {
  return readOptions<{ live: boolean; signal: AbortSignal | undefined }>("read", options, {
    live: booleanOption(false),
    signal: signalOption(),
  });
}
