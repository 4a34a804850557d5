// The event log over SQL, shared by the PostgreSQL and PGlite adapters: they differ only in the
// driver they wrap (see client.ts) and in their defaults.

import type { CallOptions, EventLog, PersistedEvent, ReadOptions } from "../../src/event_log.ts";
import {
  assertEventBytes,
  assertId,
  assertLastSeqNo,
  assertNonNegativeInteger,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
import { type SqlClient, type SqlParam, toNumber } from "./client.ts";
import { describeError, errorCode } from "./errors.ts";
import {
  appendParams,
  GroupCommit,
  type Outcome,
  type Pending,
  uncheckedParams,
} from "./group_commit.ts";
import type { NameOptions, SqlNames } from "./names.ts";
import { sqlNames } from "./names.ts";
import { PAGE_BYTES, unpackPage } from "./packed_page.ts";
import { KnownPositions } from "./known_positions.ts";
import { NotifyPacer } from "./notify_pacer.ts";
import { pagedStream, type PageSource } from "./paged_stream.ts";
import { setupScript } from "./schema.ts";
import { type Statements, statements } from "./statements.ts";
import { Wakeups } from "./wakeups.ts";

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
 * };
 * const sql = postgres("postgres://localhost/shop"); // connects at the first query
 * const log = new PostgresEventLog(sql, options);
 * assert.throws(() => new PostgresEventLog(sql, { ...options, pageSize: 0 }), RangeError);
 * assert.throws(() => new PostgresEventLog(sql, { ...options, notifyInterval: -1 }), RangeError);
 * await log.close();
 * await sql.end();
 * ```
 */
export interface SqlEventLogOptions extends NameOptions {
  /** How often a live read that has caught up looks for new events, in ms. Default 500. */
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
}

/** The settings a driver adapter fixes. */
export interface SqlEventLogSettings {
  /** Group-commit batches in flight at once (each of other type names). */
  readonly concurrency: number;
  /**
   * Whether an append that needs no check goes as one plain statement (statements.ts) rather
   * than through the plpgsql functions, whose plans the server keeps (see the adapters for
   * what was measured).
   */
  readonly plainAppends: boolean;
}

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
// Entities whose last written seqNo is remembered; the rest are checked by a probe.
const WRITTEN_ENTRIES = 100_000;
// SQLSTATEs after which a batch is retried, with every entity checked, then one entity at a time.
// A unique violation means that a writer is behind the log (its check was skipped, or another
// append of the same entity committed while this one waited for the position lock), or that a
// plain statement numbered its events after a position that was no longer the last (see
// positions.ts); serialisation failures and deadlocks can only come from sessions that do not
// run in READ COMMITTED or from appends inside a caller's own transaction.
const RETRY_ALONE = new Set(["23505", "40001", "40P01"]);

/** The shared implementation behind `PostgresEventLog` and `PgliteEventLog`. */
export class SqlEventLog implements EventLog {
  readonly names: SqlNames;
  readonly #client: SqlClient;
  readonly #sql: Statements;
  readonly #pollInterval: number;
  readonly #pageSize: number;
  readonly #notify: boolean;
  readonly #groupCommit: GroupCommit;
  readonly #plainAppend: boolean;
  readonly #wakeups = new Wakeups();
  readonly #pacer: NotifyPacer;
  readonly #positions = new KnownPositions();
  // Entity key → the last seqNo this log wrote and saw acknowledged; such an entity's next
  // append needs no probe (see appendFunction in schema.ts). Forgotten after any failed append.
  readonly #written = new Map<string, number>();
  #listening: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;

  constructor(client: SqlClient, options: SqlEventLogOptions, settings: SqlEventLogSettings) {
    this.names = sqlNames(options);
    this.#client = client;
    this.#sql = statements(this.names);
    this.#pollInterval = options.pollInterval ?? 500;
    this.#pageSize = options.pageSize ?? 1000;
    this.#notify = options.notify ?? true;
    this.#plainAppend = settings.plainAppends;
    const maxEntities = options.maxBatchSize ?? 1000;
    const notifyInterval = options.notifyInterval ?? 5;
    assertNonNegativeInteger(notifyInterval, "notifyInterval");
    this.#pacer = new NotifyPacer(notifyInterval, async (typeNames) => {
      await this.#client.query(this.#sql.notify, [typeNames]);
    });
    assertPositiveInteger(this.#pollInterval, "pollInterval");
    assertPositiveInteger(this.#pageSize, "pageSize");
    assertPositiveInteger(maxEntities, "maxBatchSize");
    this.#groupCommit = new GroupCommit((batch) => this.#runBatch(batch), {
      concurrency: settings.concurrency,
      maxEntities,
      maxBytes: MAX_BATCH_BYTES,
    });
  }

  /** Creates the schema when missing (idempotent). */
  async setup(): Promise<void> {
    try {
      await this.#client.exec(setupScript(this.names));
    } catch (error) {
      throw describeError(
        error,
        "Cannot set up the event log",
        this.#client.description,
        this.names,
      );
    }
  }

  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: CallOptions,
  ): Promise<number> {
    try {
      assertTypeName(typeName);
      assertId(id);
      assertLastSeqNo(lastSeqNo);
      assertEventBytes(events);
      throwIfAborted(options?.signal);
      if (this.#closed) throw new Error("The event log is closed");
    } catch (error) {
      return Promise.reject(error);
    }
    const key = `${typeName}\u0000${id}`;
    return new Promise<number>((resolve, reject) => {
      this.#groupCommit.add({
        typeName,
        id,
        key,
        lastSeqNo,
        check: lastSeqNo !== null && this.#written.get(key) !== lastSeqNo,
        events,
        signal: options?.signal,
        resolve,
        reject: (error) =>
          reject(
            describeError(
              error,
              `Cannot persist events for "${typeName}/${id}"`,
              this.#client.description,
              this.names,
            ),
          ),
      });
    });
  }

  // A batch is written whole or not at all: when some entities conflict, they fail and the rest
  // go again; after a unique violation (a writer whose check was skipped is behind the log) the
  // batch goes again with every entity checked, then entity by entity (see appendFunction in
  // schema.ts).
  async #runBatch(batch: readonly Pending[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(batch.length);
    let open = batch.map((_, i) => i);
    let checkAll = false;
    while (open.length > 0) {
      const part = open.map((i) => batch[i]!);
      let result: Outcome[];
      try {
        result = await this.#append(part, checkAll);
      } catch (error) {
        const code = errorCode(error);
        if (code === undefined || !RETRY_ALONE.has(code)) {
          // The server may have changed under us (a failover to a replica that lost the last
          // commits, say): check every entity again.
          this.#written.clear();
          this.#positions.clear();
          throw error;
        }
        if (!checkAll && part.some((pending) => !pending.check)) {
          checkAll = true;
          continue;
        }
        const alone = await this.#appendAlone(part);
        open.forEach((i, j) => (outcomes[i] = alone[j]!));
        return outcomes;
      }
      const written = result.every((outcome) => outcome.accepted);
      const next: number[] = [];
      open.forEach((i, j) => {
        const outcome = result[j]!;
        if (written || !outcome.accepted) outcomes[i] = outcome;
        else next.push(i);
      });
      open = next;
    }
    return outcomes;
  }

  // After a unique violation (another append of the same entity committed while this one
  // waited for the position lock): one entity at a time, a violation is a ConcurrencyError.
  async #appendAlone(batch: readonly Pending[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const pending of batch) {
      try {
        outcomes.push(...await this.#append([pending], true));
      } catch (error) {
        const code = errorCode(error);
        if (code === undefined || !RETRY_ALONE.has(code)) throw error;
        const actual = await this.lastSeqNo(pending.typeName, pending.id);
        outcomes.push({ accepted: false, actual: actual ?? 0 });
      }
    }
    return outcomes;
  }

  async #append(batch: readonly Pending[], checkAll: boolean): Promise<Outcome[]> {
    const one = batch.length === 1 && batch[0]!.events.length === 1 ? batch[0]! : undefined;
    const typeNames = one === undefined
      ? new Set(batch.map((pending) => pending.typeName))
      : [one.typeName];
    const notify = this.#notify && this.#pacer.carry(typeNames);
    if (this.#plainAppend && !checkAll && await this.#appendPlain(batch, one, notify)) {
      return this.#appended(
        batch,
        batch.map((pending) => ({ accepted: true, actual: pending.lastSeqNo ?? 0 })),
        typeNames,
        notify,
      );
    }
    const rows = one === undefined
      ? await this.#client.query(this.#sql.append, appendParams(batch, notify, checkAll))
      : await this.#client.query(this.#sql.appendOne, [
        one.typeName,
        one.id,
        one.lastSeqNo ?? 0,
        checkAll || one.check,
        one.events[0]!,
        notify,
      ]);
    // The function does not say which positions it took.
    for (const typeName of typeNames) this.#positions.forget(typeName);
    return this.#appended(
      batch,
      rows.map((row) => ({ accepted: row[0] === true, actual: toNumber(row[1]) })),
      typeNames,
      notify,
    );
  }

  // Appends a batch of one type name whose entities need no check with one plain statement:
  // numbered after the type name's last position when this log knows it (known_positions.ts),
  // else with lock and probe (positions.ts). False when it cannot: an entity to check, several
  // type names, or another append holding the type name's lock.
  async #appendPlain(
    batch: readonly Pending[],
    one: Pending | undefined,
    notify: boolean,
  ): Promise<boolean> {
    const typeName = batch[0]!.typeName;
    const known = this.#positions.get(typeName);
    let text: string;
    let params: SqlParam[];
    let count = 1;
    if (one !== undefined) {
      if (one.check) return false;
      const seqNo = (one.lastSeqNo ?? 0) + 1;
      const bytes = one.events[0]!;
      if (known === undefined) {
        text = this.#sql.appendUncheckedOne;
        params = [typeName, one.id, seqNo, bytes, notify];
      } else {
        text = notify ? this.#sql.insertOneNotify : this.#sql.insertOne;
        params = [typeName, one.id, seqNo, known + 1, bytes];
      }
    } else {
      const unchecked = uncheckedParams(batch, notify);
      if (unchecked === undefined) return false;
      count = (unchecked[1] as string[]).length;
      if (known === undefined) {
        text = this.#sql.appendUnchecked;
        params = unchecked;
      } else {
        text = notify ? this.#sql.insertManyNotify : this.#sql.insertMany;
        params = [...unchecked.slice(0, 6), known];
      }
    }
    let rows: unknown[][];
    try {
      rows = await this.#client.query(text, params);
    } catch (error) {
      // Another writer took a position after the one this log knew (or an entity's writer is
      // behind: either way the batch goes again, checked, through the function).
      if (known !== undefined && errorCode(error) === "23505") this.#positions.collided(typeName);
      throw error;
    }
    if (known !== undefined) {
      this.#positions.wrote(typeName, known + count);
      return true;
    }
    // 0 events: another append holds the type name's lock; the function waits for it.
    if (toNumber(rows[0]?.[0]) === 0) return false;
    this.#positions.wrote(typeName, toNumber(rows[0]?.[1]));
    return true;
  }

  // Settles the bookkeeping of an append: on success, what this log wrote, the wake-ups of its
  // own live readers and what is owed to readers elsewhere (notified: whether it carried NOTIFY).
  #appended(
    batch: readonly Pending[],
    outcomes: Outcome[],
    typeNames: Iterable<string>,
    notified: boolean,
  ): Outcome[] {
    if (outcomes.every((outcome) => outcome.accepted)) {
      for (const pending of batch) {
        this.#remember(pending.key, (pending.lastSeqNo ?? 0) + pending.events.length);
      }
      for (const typeName of typeNames) this.#wakeups.wake(typeName);
      if (this.#notify) this.#pacer.committed(typeNames, notified);
    } else {
      outcomes.forEach((outcome, i) => outcome.accepted || this.#written.delete(batch[i]!.key));
    }
    return outcomes;
  }

  // The last seqNo this log wrote for an entity, most recent entities last, so the oldest go
  // first when the map is full.
  #remember(key: string, seqNo: number): void {
    this.#written.delete(key);
    this.#written.set(key, seqNo);
    if (this.#written.size > WRITTEN_ENTRIES) {
      this.#written.delete(this.#written.keys().next().value!);
    }
  }

  async lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(options?.signal);
    try {
      const rows = await this.#client.query(this.#sql.lastSeqNo, [typeName, id], options?.signal);
      const value = rows[0]?.[0];
      return value === null || value === undefined ? null : toNumber(value);
    } catch (error) {
      throw this.#readError(error, `Cannot read the last seqNo of "${typeName}/${id}"`, options);
    }
  }

  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options: ReadOptions = {},
  ): ReadableStream<PersistedEvent> {
    assertTypeName(typeName);
    assertId(id);
    assertNonNegativeInteger(fromSeqNo, "fromSeqNo");
    const sql = this.#sql;
    const client = this.#client;
    const what = `Cannot read the events of "${typeName}/${id}"`;
    const source: PageSource = {
      first: async (from, limit, signal) => {
        const rows = await this.#read(
          () => client.query(sql.eventsByIdFirst, [typeName, id, from, limit, PAGE_BYTES], signal),
          what,
          signal,
        );
        const head = rows[0]?.[0];
        const page = unpackPage(rows[0], 1, limit, typeName, id);
        return { ...page, head: head === null || head === undefined ? null : toNumber(head) };
      },
      page: async (from, to, limit, signal) => {
        const rows = await this.#read(
          () => client.query(sql.eventsById, [typeName, id, from, to, limit, PAGE_BYTES], signal),
          what,
          signal,
        );
        return unpackPage(rows[0], 0, limit, typeName, id);
      },
      key: (event) => event.seqNo,
      wait: (signal) => this.#wait(typeName, signal),
    };
    return pagedStream(source, Math.max(fromSeqNo, 1), this.#readOptions(options));
  }

  eventsByType(
    typeName: string,
    fromPosition: number,
    options: ReadOptions = {},
  ): ReadableStream<PersistedEvent> {
    assertTypeName(typeName);
    assertNonNegativeInteger(fromPosition, "fromPosition");
    const sql = this.#sql;
    const client = this.#client;
    const what = `Cannot read the events of type "${typeName}"`;
    const source: PageSource = {
      first: async (from, limit, signal) => {
        const rows = await this.#read(
          () => client.query(sql.eventsByTypeFirst, [typeName, from, limit, PAGE_BYTES], signal),
          what,
          signal,
        );
        const head = rows[0]?.[0];
        const page = unpackPage(rows[0], 1, limit, typeName, undefined);
        return { ...page, head: head === null || head === undefined ? null : toNumber(head) };
      },
      page: async (from, to, limit, signal) => {
        const rows = await this.#read(
          () => client.query(sql.eventsByType, [typeName, from, to, limit, PAGE_BYTES], signal),
          what,
          signal,
        );
        return unpackPage(rows[0], 0, limit, typeName, undefined);
      },
      key: (event) => event.position,
      wait: (signal) => this.#wait(typeName, signal),
    };
    return pagedStream(source, Math.max(fromPosition, 1), this.#readOptions(options));
  }

  /** Stops listening; later calls fail. Does not close the client. */
  async close(): Promise<void> {
    if (!this.#closed) await this.#pacer.flush();
    this.#closed = true;
    const unlisten = await this.#listening?.catch(() => undefined);
    this.#listening = undefined;
    await unlisten?.().catch(() => {});
  }

  #readOptions(
    options: ReadOptions,
  ): { live: boolean; signal: AbortSignal | undefined; pageSize: number } {
    const live = options.live ?? false;
    if (live) this.#listen();
    return { live, signal: options.signal, pageSize: this.#pageSize };
  }

  async #read(
    run: () => Promise<unknown[][]>,
    what: string,
    signal: AbortSignal,
  ): Promise<unknown[][]> {
    try {
      return await run();
    } catch (error) {
      throw this.#readError(error, what, { signal });
    }
  }

  #readError(error: unknown, what: string, options: CallOptions | undefined): unknown {
    if (options?.signal?.aborted) return options.signal.reason;
    return describeError(error, what, this.#client.description, this.names);
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

  #wait(typeName: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        cancel();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, this.#pollInterval);
      const cancel = this.#wakeups.wait(typeName, done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
