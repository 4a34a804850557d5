/**
 * {@linkcode PostgresOffsetStore}: projection offsets in PostgreSQL through postgres.js, in the
 * handler's transaction.
 *
 * @module
 */

import type postgres from "postgres";
import type {
  AcquireOptions,
  OffsetCallOptions,
  OffsetChange,
  OffsetLease,
  OffsetStore,
} from "../../projection/offset_store.ts";
import { ProjectionError } from "../../projection/errors.ts";
import {
  assertProjectionName,
  type NameLocks,
  nameLocksFor,
  sleep,
} from "../../projection/_name_locks.ts";
import { numberAtLeast, readOptions } from "../../src/_options.ts";
import { describeError } from "../_sql/errors.ts";
import { type SqlNames, sqlNames } from "../_sql/names.ts";
import { nameRules, readAcquireOptions } from "../_sql/options.ts";
import { setupScript } from "../_sql/schema.ts";
import {
  conflictMessage,
  hash32,
  offsetStatements,
  type OffsetTableOptions,
  typeChangesJson,
  typeConflictMessage,
  typeOffsetsOf,
} from "../_sql/sql_offset_store.ts";
import { assertTypeChanges, assertTypeNames } from "../../projection/_type_offsets.ts";
import { DEFAULT_QUERY_TIMEOUT_MS as TIMEOUT, describeSql } from "./_client.ts";
import { reserveConnection, withTimeout } from "./_reserve.ts";
import { callSignal } from "../../src/_call_options.ts";

const UNLOCK_WAIT_MS = 2_000;

const lockStateQuery = `select
  (select count(*) from pg_catalog.pg_stat_activity where pid = $1::int) as alive,
  (select count(*) from pg_catalog.pg_locks where locktype = 'advisory' and granted
    and pid = $1::int and classid = $2::oid and objid = $3::oid and objsubid = 2) as held`;

/**
 * Options of a {@linkcode PostgresOffsetStore}.
 *
 * @example Offsets in the read model's schema, waiting runners polling every 250 ms
 * ```ts
 * import postgres from "postgres";
 * import { PostgresOffsetStore, type PostgresOffsetStoreOptions } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const sql = postgres("postgres://app@localhost:5432/app", { max: 4 }); // connects on first query
 * const options: PostgresOffsetStoreOptions = { schema: "read_models", lockPollMs: 250 };
 * const offsetStore = new PostgresOffsetStore(sql, options);
 * // With a server: `await offsetStore.setup()`, then pass it to a `Projection`.
 * assert.throws(() => new PostgresOffsetStore(sql, { schema: "Read-Models" }), TypeError);
 * assert.throws(() => new PostgresOffsetStore(sql, { lockPoll: 250 } as never), /lockPollMs/);
 * await sql.end();
 * ```
 */
export interface PostgresOffsetStoreOptions extends OffsetTableOptions {
  /**
   * How often, in ms, a runner that waits for a name held by another process asks again;
   * default 500.
   */
  lockPollMs?: number | undefined;
}

/**
 * Projection offsets in a PostgreSQL table (`<schema>.<tablePrefix>projection_offsets`), part of
 * the schema that `PostgresEventLog.setup()` creates: with the event log's `schema` and
 * `tablePrefix`, either one's `setup()` creates every table.
 *
 * - **Exactly-once** for read models in the same database: the handler gets the
 *   `TransactionSql` in which the offset is moved, so its writes and the offset commit
 *   together or not at all, also when the process is killed mid-batch.
 * - **One runner per name across processes**: a runner holds a session advisory lock on its
 *   name, on a connection reserved from the pool for as long as it runs (so the pool needs at
 *   least two connections). A second runner fails with a `ProjectionError` (reason
 *   `"locked"`), or waits with `onLocked: "wait"`. The lock goes when the connection does,
 *   e.g. when the process dies.
 * - **Fencing**: the offset moves by compare-and-set, and only while the runner's lock
 *   connection still holds the lock, so a runner that lost its lock (its connection dropped)
 *   can no longer commit: its commit rolls back with reason `"offset-conflict"` and it stops.
 *
 * The store uses the caller's client and never ends it. Call
 * {@linkcode PostgresOffsetStore.setup} once to create the table.
 *
 * @example Balances in the same database as the offsets
 * ```ts ignore
 * import postgres from "postgres";
 * import { jsonBinarize } from "@eventsourced/eventsourced";
 * import { PostgresEventLog, PostgresOffsetStore } from "@eventsourced/eventsourced/postgres";
 * import { Projection } from "@eventsourced/eventsourced/projection";
 *
 * const sql = postgres(process.env.PG_URL!);
 * const offsetStore = new PostgresOffsetStore(sql);
 * await offsetStore.setup(); // the same schema as the event log's setup()
 * await sql`create table if not exists balances (id text primary key, cents bigint not null)`;
 *
 * const projection = new Projection("balances", {
 *   typeName: "account",
 *   eventLog: new PostgresEventLog(sql),
 *   binarize: jsonBinarize<{ amount: number }, unknown>(),
 *   offsetStore,
 *   batchSize: 500,
 *   handleEvent: async ({ id, event }, { tx }) => {
 *     await tx`insert into balances values (${id}, ${event.amount})
 *       on conflict (id) do update set cents = balances.cents + excluded.cents`;
 *   },
 * });
 * await projection.run();
 * ```
 */
export class PostgresOffsetStore implements OffsetStore<postgres.TransactionSql> {
  readonly #sql: postgres.Sql;
  readonly #names: SqlNames;
  readonly #statements: ReturnType<typeof offsetStatements>;
  readonly #locks: NameLocks;
  readonly #pollMs: number;

  /**
   * Uses `sql` (a postgres.js client the caller owns). Throws a `TypeError` for an unknown
   * option or a bad schema or table prefix, a `RangeError` for a bad `lockPollMs`.
   */
  constructor(sql: postgres.Sql, options: PostgresOffsetStoreOptions = {}) {
    if (typeof sql !== "function" || typeof sql.begin !== "function") {
      throw new TypeError("Invalid sql: expected a postgres.js client (postgres(...))");
    }
    const max = (sql as { options?: { max?: unknown } }).options?.max;
    if (typeof max === "number" && max < 2) {
      throw new TypeError(
        `Invalid sql: a pool of ${max} connection; the store needs at least 2 (one holds the ` +
          `projection's lock while the others run its transactions)`,
      );
    }
    const read = readOptions("PostgresOffsetStore", options, {
      ...nameRules,
      lockPollMs: numberAtLeast(1, 500),
    });
    this.#sql = sql;
    this.#names = sqlNames(read);
    this.#statements = offsetStatements(this.#names);
    this.#locks = nameLocksFor(sql, this.#statements.table);
    this.#pollMs = read.lockPollMs;
  }

  /**
   * Creates the schema when missing, the same one as `PostgresEventLog.setup()` (events,
   * snapshots and offsets); safe to call again and concurrently.
   */
  async setup(): Promise<void> {
    try {
      await this.#sql.unsafe(setupScript(this.#names)).simple();
    } catch (error) {
      throw this.#describe(error, "Cannot set up the offset store", true);
    }
  }

  /** {@inheritDoc OffsetStore.load} */
  async load(name: string, options?: OffsetCallOptions): Promise<number> {
    const signal = callSignal("PostgresOffsetStore.load", options);
    assertProjectionName(name);
    if (signal?.aborted) throw signal.reason;
    try {
      const rows = await withTimeout(
        () => this.#sql.unsafe(this.#statements.load, [name]),
        TIMEOUT,
        `Cannot load the offset of projection "${name}"`,
        signal,
      );
      return rows.length === 0 ? 0 : Number(rows[0]!.position);
    } catch (error) {
      throw this.#describe(error, `Cannot load the offset of projection "${name}"`, false);
    }
  }

  /** {@inheritDoc OffsetStore.loadTypes} */
  async loadTypes(
    name: string,
    typeNames: readonly string[],
    options?: OffsetCallOptions,
  ): Promise<ReadonlyMap<string, number>> {
    const signal = callSignal("PostgresOffsetStore.loadTypes", options);
    assertProjectionName(name);
    assertTypeNames(typeNames);
    if (signal?.aborted) throw signal.reason;
    try {
      return await loadTypeOffsets(this.#sql, this.#statements.typeLoad, name, typeNames, signal);
    } catch (error) {
      throw this.#describe(error, `Cannot load the offsets of projection "${name}"`, false);
    }
  }

  #describe(error: unknown, what: string, write: boolean): unknown {
    return describeError(error, what, {
      where: describeSql(this.#sql),
      names: this.#names,
      write,
    });
  }

  /** {@inheritDoc OffsetStore.acquire} */
  async acquire(
    name: string,
    options?: AcquireOptions,
  ): Promise<OffsetLease<postgres.TransactionSql>> {
    const { wait, signal } = readAcquireOptions(options);
    assertProjectionName(name);
    const { lockSpace, table, ensure, load, moveLocked, typeLoad, typeEnsure, typeMoveLocked } =
      this.#statements;
    const key = hash32(name);
    const sql = this.#sql;
    const releaseLocal = await this.#locks.acquire(name, { wait, signal });
    let reserved: postgres.ReservedSql | undefined;
    let locked = false;
    let pid = 0;
    // Whether the lock's session still lives and holds the lock, asked on another connection:
    // a reserved connection whose session died must not be queried (postgres.js may never
    // answer, or throw from its socket) nor handed back to the pool (it would be reused as if
    // open); postgres.js reconnects it by itself when the pool needs it.
    const lockState = async (): Promise<"held" | "free" | "gone"> => {
      try {
        const [row] = await sql.unsafe(lockStateQuery, [pid, lockSpace >>> 0, key >>> 0]);
        if (Number(row?.alive) === 0) return "gone";
        return Number(row?.held) > 0 ? "held" : "free";
      } catch {
        return "gone";
      }
    };
    const unlock = async () => {
      let release = reserved !== undefined;
      if (locked) {
        const state = await lockState();
        if (state === "held") {
          const unlocked = reserved!`select pg_advisory_unlock(${lockSpace}::int4, ${key}::int4)`
            .then(() => true, () => false);
          let timer: ReturnType<typeof setTimeout> | undefined;
          release = await Promise.race([
            unlocked,
            new Promise<boolean>((resolve) => (timer = setTimeout(resolve, UNLOCK_WAIT_MS, false))),
          ]);
          clearTimeout(timer);
        } else {
          release = state === "free";
        }
      }
      locked = false;
      if (release) reserved?.release();
      reserved = undefined;
      releaseLocal();
    };
    try {
      reserved = await reserveConnection(sql, TIMEOUT, signal);
      for (;;) {
        const [row] =
          await reserved`select pg_try_advisory_lock(${lockSpace}::int4, ${key}::int4) as locked`;
        if (row?.locked === true) break;
        if (!wait) {
          throw new ProjectionError(
            `Cannot run projection "${name}": another runner holds it (advisory lock ` +
              `(${lockSpace}, ${key}) on the offsets table ${table})`,
            { projection: name, reason: "locked" },
          );
        }
        await sleep(this.#pollMs, signal);
      }
      locked = true;
      const [backend] = await reserved`select pg_backend_pid() as pid`;
      pid = Number(backend!.pid);
      await withTimeout(() => sql.unsafe(ensure, [name]), TIMEOUT, `Cannot acquire "${name}"`);
    } catch (error) {
      await unlock();
      throw signal?.aborted
        ? signal.reason
        : this.#describe(error, `Cannot acquire projection "${name}"`, true);
    }
    let released = false;
    return {
      name,
      async load(callOptions: OffsetCallOptions = {}): Promise<number> {
        const signal = callSignal("OffsetLease.load", callOptions);
        if (signal?.aborted) throw signal.reason;
        const rows = await withTimeout(
          () => sql.unsafe(load, [name]),
          TIMEOUT,
          `Cannot load the offset of projection "${name}"`,
          signal,
        );
        return rows.length === 0 ? 0 : Number(rows[0]!.position);
      },
      async commit(
        change: OffsetChange,
        work: (tx: postgres.TransactionSql) => Promise<void>,
        callOptions?: OffsetCallOptions,
      ): Promise<void> {
        const signal = callSignal("OffsetLease.commit", callOptions);
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        signal?.throwIfAborted();
        await sql.begin(async (tx) => {
          // Moving the offset first locks the row, so a competing runner waits here, then
          // finds the offset moved and rolls back before its handler runs. The move also
          // checks that this runner's lock connection still holds the lock: a runner whose
          // connection dropped cannot commit, even before another one takes the name.
          const result = await tx.unsafe(moveLocked, [
            name,
            change.from,
            change.to,
            pid,
            key >>> 0,
          ]);
          if (result.count !== 1) {
            throw new ProjectionError(conflictMessage(name, change, true), {
              projection: name,
              reason: "offset-conflict",
            });
          }
          await work(tx);
          // A stop while the unit of work ran rolls it back: nothing of it is stored.
          signal?.throwIfAborted();
        });
      },
      async loadTypes(
        typeNames: readonly string[],
        callOptions: OffsetCallOptions = {},
      ): Promise<ReadonlyMap<string, number>> {
        const signal = callSignal("OffsetLease.loadTypes", callOptions);
        assertTypeNames(typeNames);
        if (signal?.aborted) throw signal.reason;
        return await loadTypeOffsets(sql, typeLoad, name, typeNames, signal);
      },
      async commitTypes(
        changes: ReadonlyMap<string, OffsetChange>,
        work: (tx: postgres.TransactionSql) => Promise<void>,
        callOptions?: OffsetCallOptions,
      ): Promise<void> {
        const signal = callSignal("OffsetLease.commitTypes", callOptions);
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        assertTypeChanges(changes);
        signal?.throwIfAborted();
        const json = typeChangesJson(changes);
        await sql.begin(async (tx) => {
          // As in `commit`: the moves lock the rows first, and only while this runner's lock
          // connection still holds the lock.
          await tx.unsafe(typeEnsure, [name, json]);
          const result = await tx.unsafe(typeMoveLocked, [name, json, pid, key >>> 0]);
          if (result.count !== changes.size) {
            throw new ProjectionError(typeConflictMessage(name, changes, true), {
              projection: name,
              reason: "offset-conflict",
            });
          }
          await work(tx);
          // A stop while the unit of work ran rolls it back: nothing of it is stored.
          signal?.throwIfAborted();
        });
      },
      async release(): Promise<void> {
        if (released) return;
        released = true;
        await unlock();
      },
    };
  }
}

async function loadTypeOffsets(
  sql: postgres.Sql,
  text: string,
  name: string,
  typeNames: readonly string[],
  signal: AbortSignal | undefined,
): Promise<ReadonlyMap<string, number>> {
  const rows = await withTimeout(
    () => sql.unsafe(text, [name]),
    TIMEOUT,
    `Cannot load the offsets of projection "${name}"`,
    signal,
  );
  return typeOffsetsOf(rows, typeNames);
}
