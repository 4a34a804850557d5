/**
 * The offset store port: where a projection keeps the position of the last event it has
 * processed, and the unit of work (a transaction, where the store has one) in which its
 * handler's writes and the new offset are committed together.
 *
 * @module
 */

/**
 * Options of {@linkcode OffsetStore.acquire}.
 *
 * @example Wait for the name, but not forever
 * ```ts
 * import { type AcquireOptions, isProjectionError, MemoryOffsetStore } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryOffsetStore();
 * const first = await store.acquire("balances");
 * const error = await store.acquire("balances").catch((e) => e);
 * assert.ok(isProjectionError(error) && error.reason === "locked");
 *
 * const options: AcquireOptions = { wait: true, signal: AbortSignal.timeout(5_000) };
 * const second = store.acquire("balances", options);
 * await first.release();
 * await (await second).release();
 * ```
 */
export interface AcquireOptions {
  /**
   * `false` (default): reject with a `ProjectionError` (reason `"locked"`) when another runner
   * holds the name. `true`: wait until it is released.
   */
  wait?: boolean | undefined;
  /** Gives up acquiring (also while waiting); the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Options of a single call to an offset store.
 *
 * @example Load an offset with a timeout
 * ```ts
 * import { MemoryOffsetStore, type OffsetCallOptions } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryOffsetStore();
 * const options: OffsetCallOptions = { signal: AbortSignal.timeout(1_000) };
 * assert.equal(await store.load("balances", options), 0);
 * ```
 */
export interface OffsetCallOptions {
  /** Cancels the call where the store can. */
  signal?: AbortSignal | undefined;
}

/**
 * A move of the stored offset, checked against the offset the runner last saw.
 *
 * @example A stale move is refused
 * ```ts
 * import { isProjectionError, MemoryOffsetStore, type OffsetChange } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryOffsetStore();
 * const lease = await store.acquire("balances");
 * const change: OffsetChange = { from: 0, to: 5 };
 * await lease.commit(change, async () => {});
 * const error = await lease.commit(change, async () => {}).catch((e) => e); // 5 is stored, not 0
 * assert.ok(isProjectionError(error) && error.reason === "offset-conflict");
 * assert.equal(await lease.load(), 5);
 * await lease.release();
 * ```
 */
export interface OffsetChange {
  /** The offset the runner expects to be stored now; `0`: none yet. */
  readonly from: number;
  /** The offset to store: the position of the last event processed. */
  readonly to: number;
}

/**
 * The right to run a projection of one name, held by one runner at a time; ends with
 * {@linkcode OffsetLease.release}.
 *
 * @example Commit work with the offset, then give the name back
 * ```ts
 * import { MemoryOffsetStore, type OffsetLease } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryOffsetStore();
 * const lease: OffsetLease<undefined> = await store.acquire("balances");
 * const from = await lease.load();
 * const written: number[] = [];
 * await lease.commit({ from, to: from + 2 }, async () => void written.push(1, 2));
 * await lease.release();
 * assert.deepEqual(written, [1, 2]);
 * assert.equal(await store.load("balances"), 2);
 * ```
 */
export interface OffsetLease<Tx> {
  /** The projection's name. */
  readonly name: string;
  /** The stored offset: the position of the last event processed, `0` when none. */
  load(options?: OffsetCallOptions): Promise<number>;
  /**
   * Runs `work` with the store's unit of work and moves the offset from `change.from` to
   * `change.to` in it: both take effect or neither does (on stores with transactions). Rejects
   * with a `ProjectionError` (reason `"offset-conflict"`) when the stored offset is not
   * `change.from`, having done nothing; rejects with `work`'s error, having stored nothing, when
   * `work` throws. `options.signal` cancels the unit of work where the store can (nothing is
   * stored then); the projection passes its run's signal, which aborts on stop.
   */
  commit(
    change: OffsetChange,
    work: (tx: Tx) => Promise<void>,
    options?: OffsetCallOptions,
  ): Promise<void>;
  /** Gives the name back; safe to call more than once. */
  release(): Promise<void>;
  /**
   * For a projection over several types: the stored offset of each of `typeNames` under this
   * name (`0` for a type with none). Optional for stores outside this package; every store of
   * this package has it, and a projection over several types needs it.
   */
  loadTypes?(
    typeNames: readonly string[],
    options?: OffsetCallOptions,
  ): Promise<ReadonlyMap<string, number>>;
  /**
   * For a projection over several types: moves the offset of each type in `changes` from its
   * `from` to its `to`, in one unit of work with `work` (one transaction where the store has
   * them), and only if every stored offset still equals its `from`; otherwise nothing is
   * stored and it rejects with a `ProjectionError` (reason `"offset-conflict"`).
   */
  commitTypes?(
    changes: ReadonlyMap<string, OffsetChange>,
    work: (tx: Tx) => Promise<void>,
    options?: OffsetCallOptions,
  ): Promise<void>;
}

/**
 * Storage for projection offsets. `Tx` is what a handler gets to write its read model with in
 * the same unit of work as the offset: a transaction on Postgres and PGlite (exactly-once for
 * read models in that database), `undefined` on stores without one (at-least-once).
 *
 * @example The memory store
 * ```ts
 * import { MemoryOffsetStore, type OffsetStore } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const store: OffsetStore<undefined> = new MemoryOffsetStore();
 * const lease = await store.acquire("balances");
 * await lease.commit({ from: 0, to: 3 }, async () => {});
 * assert.equal(await store.load("balances"), 3);
 * await lease.release();
 * ```
 */
export interface OffsetStore<Tx> {
  /** The stored offset of `name` (`0` when none), without taking the name. */
  load(name: string, options?: OffsetCallOptions): Promise<number>;
  /**
   * Takes the name for one runner. Rejects with a `ProjectionError` (reason `"locked"`) when
   * another runner holds it, unless `wait` is set.
   */
  acquire(name: string, options?: AcquireOptions): Promise<OffsetLease<Tx>>;
  /**
   * The stored offsets of a projection over several types, by type name (`0` for a type with
   * none), without taking the name. Optional like {@linkcode OffsetLease.loadTypes}.
   */
  loadTypes?(
    name: string,
    typeNames: readonly string[],
    options?: OffsetCallOptions,
  ): Promise<ReadonlyMap<string, number>>;
}
