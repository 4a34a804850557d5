/**
 * {@linkcode PgliteOffsetStore}: projection offsets in PGlite, in the handler's transaction.
 *
 * @module
 */

import type { PGliteInterface, Transaction } from "@electric-sql/pglite";
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
} from "../../projection/_name_locks.ts";
import { readOptions } from "../../src/_options.ts";
import { describeError } from "../_sql/errors.ts";
import { type SqlNames, sqlNames } from "../_sql/names.ts";
import { nameRules, readAcquireOptions } from "../_sql/options.ts";
import { setupScript } from "../_sql/schema.ts";
import {
  conflictMessage,
  offsetStatements,
  type OffsetTableOptions,
  typeChangesJson,
  typeConflictMessage,
  typeOffsetsOf,
} from "../_sql/sql_offset_store.ts";
import { assertTypeChanges, assertTypeNames } from "../../projection/_type_offsets.ts";
import { callSignal } from "../../src/_call_options.ts";

/**
 * Options of a {@linkcode PgliteOffsetStore}: where its table lives.
 *
 * @example The event log's table prefix
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { PgliteOffsetStore, type PgliteOffsetStoreOptions } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * const options: PgliteOffsetStoreOptions = { tablePrefix: "shop_" };
 * assert.throws(() => new PgliteOffsetStore(db, { prefix: "shop_" } as never), /tablePrefix/);
 * await new PgliteOffsetStore(db, options).setup();
 * await db.close();
 * ```
 */
export type PgliteOffsetStoreOptions = OffsetTableOptions;

/**
 * What the store uses of a PGlite instance.
 *
 * @example A helper that takes any PGlite client
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { type PgliteOffsetClient, PgliteOffsetStore } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * async function offsetStoreIn(db: PgliteOffsetClient): Promise<PgliteOffsetStore> {
 *   const offsetStore = new PgliteOffsetStore(db);
 *   await offsetStore.setup();
 *   return offsetStore;
 * }
 *
 * const db = new PGlite();
 * const offsetStore = await offsetStoreIn(db);
 * assert.equal(await offsetStore.load("totals"), 0);
 * await db.close();
 * ```
 */
export type PgliteOffsetClient = Pick<PGliteInterface, "query" | "exec" | "transaction">;

/**
 * Projection offsets in a PGlite table, part of the schema that `PgliteEventLog.setup()` creates
 * (the same as `PostgresOffsetStore`'s). The handler
 * gets the PGlite `Transaction` in which the offset is moved, so a read model in the same
 * database is written **exactly once** per event. PGlite lives in one process, so names are
 * exclusive among the stores over the same `db` object (and the offset moves by
 * compare-and-set, as on Postgres).
 *
 * @example Counter totals in PGlite
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { Projection } from "@eventsourced/eventsourced/projection";
 * import { PgliteOffsetStore } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * const offsetStore = new PgliteOffsetStore(db);
 * await offsetStore.setup();
 * await db.exec("create table totals (id text primary key, total int not null)");
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(2), binarize.eventToBytes(5)]);
 *
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore,
 *   handleEvent: async ({ id, event }, { tx }) => {
 *     await tx.query(
 *       "insert into totals values ($1, $2) on conflict (id) do update set total = totals.total + $2",
 *       [id, event],
 *     );
 *   },
 * });
 * await projection.run();
 * await projection.whenCaughtUp();
 * const { rows } = await db.query<{ total: number }>("select total from totals where id = 'a'");
 * assert.equal(rows[0]?.total, 7);
 * assert.equal(await offsetStore.load("totals"), 2);
 * await projection.stop();
 * await db.close();
 * ```
 */
export class PgliteOffsetStore implements OffsetStore<Transaction> {
  readonly #db: PgliteOffsetClient;
  readonly #names: SqlNames;
  readonly #statements: ReturnType<typeof offsetStatements>;
  readonly #locks: NameLocks;

  /**
   * Uses `db` (a PGlite instance the caller owns). Throws a `TypeError` for an unknown option
   * or bad names.
   */
  constructor(db: PgliteOffsetClient, options: PgliteOffsetStoreOptions = {}) {
    if (typeof db?.transaction !== "function" || typeof db.query !== "function") {
      throw new TypeError("Invalid db: expected a PGlite instance");
    }
    this.#db = db;
    this.#names = sqlNames(readOptions("PgliteOffsetStore", options, nameRules));
    this.#statements = offsetStatements(this.#names);
    this.#locks = nameLocksFor(db, this.#statements.table);
  }

  /**
   * Creates or upgrades the schema, the same one as `PgliteEventLog.setup()` (events,
   * snapshots and offsets); idempotent.
   */
  async setup(): Promise<void> {
    try {
      await this.#db.exec(setupScript(this.#names));
    } catch (error) {
      throw describeError(error, "Cannot set up the offset store", {
        where: "PGlite",
        names: this.#names,
        write: true,
      });
    }
  }

  /** {@inheritDoc OffsetStore.load} */
  async load(name: string, options?: OffsetCallOptions): Promise<number> {
    const signal = callSignal("PgliteOffsetStore.load", options);
    assertProjectionName(name);
    if (signal?.aborted) throw signal.reason;
    try {
      return await loadOffset(this.#db, this.#statements.load, name);
    } catch (error) {
      throw describeError(error, `Cannot load the offset of projection "${name}"`, {
        where: "PGlite",
        names: this.#names,
        write: false,
      });
    }
  }

  /** {@inheritDoc OffsetStore.loadTypes} */
  async loadTypes(
    name: string,
    typeNames: readonly string[],
    options?: OffsetCallOptions,
  ): Promise<ReadonlyMap<string, number>> {
    const signal = callSignal("PgliteOffsetStore.loadTypes", options);
    assertProjectionName(name);
    assertTypeNames(typeNames);
    if (signal?.aborted) throw signal.reason;
    try {
      return await loadTypeOffsets(this.#db, this.#statements.typeLoad, name, typeNames);
    } catch (error) {
      throw describeError(error, `Cannot load the offsets of projection "${name}"`, {
        where: "PGlite",
        names: this.#names,
        write: false,
      });
    }
  }

  /** {@inheritDoc OffsetStore.acquire} */
  async acquire(name: string, options?: AcquireOptions): Promise<OffsetLease<Transaction>> {
    const { wait, signal } = readAcquireOptions(options);
    assertProjectionName(name);
    const releaseLocal = await this.#locks.acquire(name, { wait, signal });
    const db = this.#db;
    const { ensure, load, move, typeLoad, typeEnsure, typeMove } = this.#statements;
    try {
      await db.query(ensure, [name]);
    } catch (error) {
      releaseLocal();
      throw error;
    }
    let released = false;
    return {
      name,
      load: async (callOptions: OffsetCallOptions = {}) => {
        const signal = callSignal("OffsetLease.load", callOptions);
        if (signal?.aborted) throw signal.reason;
        return await loadOffset(db, load, name);
      },
      async commit(
        change: OffsetChange,
        work: (tx: Transaction) => Promise<void>,
        callOptions?: OffsetCallOptions,
      ) {
        const signal = callSignal("OffsetLease.commit", callOptions);
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        signal?.throwIfAborted();
        await db.transaction(async (tx) => {
          const result = await tx.query(move, [name, change.from, change.to]);
          if (result.affectedRows !== 1) {
            throw new ProjectionError(conflictMessage(name, change), {
              projection: name,
              reason: "offset-conflict",
            });
          }
          await work(tx);
          // A stop while the unit of work ran rolls it back: nothing of it is stored.
          signal?.throwIfAborted();
        });
      },
      async loadTypes(typeNames: readonly string[], callOptions: OffsetCallOptions = {}) {
        const signal = callSignal("OffsetLease.loadTypes", callOptions);
        assertTypeNames(typeNames);
        if (signal?.aborted) throw signal.reason;
        return await loadTypeOffsets(db, typeLoad, name, typeNames);
      },
      async commitTypes(
        changes: ReadonlyMap<string, OffsetChange>,
        work: (tx: Transaction) => Promise<void>,
        callOptions?: OffsetCallOptions,
      ) {
        const signal = callSignal("OffsetLease.commitTypes", callOptions);
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        assertTypeChanges(changes);
        signal?.throwIfAborted();
        const json = typeChangesJson(changes);
        await db.transaction(async (tx) => {
          await tx.query(typeEnsure, [name, json]);
          const result = await tx.query(typeMove, [name, json]);
          if (result.affectedRows !== changes.size) {
            throw new ProjectionError(typeConflictMessage(name, changes), {
              projection: name,
              reason: "offset-conflict",
            });
          }
          await work(tx);
          // A stop while the unit of work ran rolls it back: nothing of it is stored.
          signal?.throwIfAborted();
        });
      },
      release() {
        released = true;
        releaseLocal();
        return Promise.resolve();
      },
    };
  }
}

async function loadOffset(db: PgliteOffsetClient, text: string, name: string): Promise<number> {
  const { rows } = await db.query<{ position: unknown }>(text, [name]);
  return rows.length === 0 ? 0 : Number(rows[0]!.position);
}

async function loadTypeOffsets(
  db: PgliteOffsetClient,
  text: string,
  name: string,
  typeNames: readonly string[],
): Promise<ReadonlyMap<string, number>> {
  const { rows } = await db.query<{ type_name: unknown; position: unknown }>(text, [name]);
  return typeOffsetsOf(rows, typeNames);
}
