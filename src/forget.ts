/**
 * Deleting an entity's events: up to a snapshot that covers them, or the entity entirely.
 *
 * @module
 */

import type { CallOptions, EventLog } from "./event_log.ts";
import type { SnapshotStore } from "./snapshot_store.ts";
import { integerAtLeast, readOptions, signalOption } from "./_options.ts";
import { assertId, assertTypeName, quote, throwIfAborted } from "./_validate.ts";

/**
 * The stores {@linkcode deleteEventsUpTo} and {@linkcode deleteEntity} delete from: the
 * entity's event log and snapshot store, both with their optional deletion methods.
 *
 * @example The memory stores
 * ```ts
 * import { type ForgetStores, MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 *
 * const stores: ForgetStores = {
 *   eventLog: new MemoryEventLog(),
 *   snapshotStore: new MemorySnapshotStore(),
 * };
 * ```
 */
export interface ForgetStores {
  /** The event log; it must implement `deleteEvents` and `deleteEntity`. */
  readonly eventLog: EventLog;
  /** The snapshot store; it must implement `delete`. */
  readonly snapshotStore: SnapshotStore;
}

/**
 * Options of {@linkcode deleteEventsUpTo}.
 *
 * @example Delete up to seqNo 100, within ten seconds
 * ```ts
 * import type { DeleteEventsUpToOptions } from "@eventsourced/eventsourced";
 *
 * const options: DeleteEventsUpToOptions = { toSeqNo: 100, signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface DeleteEventsUpToOptions extends CallOptions {
  /**
   * The last seqNo to delete, a positive integer the entity's snapshot covers. Default: the
   * snapshot's seqNo.
   */
  toSeqNo?: number | undefined;
}

/**
 * What {@linkcode deleteEventsUpTo} deleted.
 *
 * @example Read the result
 * ```ts
 * import type { DeletedEvents } from "@eventsourced/eventsourced";
 *
 * const result: DeletedEvents = { deleted: 9, toSeqNo: 10 };
 * console.log(`${result.deleted} events up to seqNo ${result.toSeqNo} deleted`);
 * ```
 */
export interface DeletedEvents {
  /** How many events were deleted (none that an earlier call deleted). */
  readonly deleted: number;
  /** The seqNo the deletion went up to; the entity's last event stays even when it is this. */
  readonly toSeqNo: number;
}

/**
 * What {@linkcode deleteEntity} deleted.
 *
 * @example Read the result
 * ```ts
 * import type { DeletedEntity } from "@eventsourced/eventsourced";
 *
 * const result: DeletedEntity = { deleted: 12 };
 * console.log(`${result.deleted} events deleted`);
 * ```
 */
export interface DeletedEntity {
  /** How many events were deleted. */
  readonly deleted: number;
}

type DeletionMethod = "deleteEvents" | "deleteEntity";

// Both stores and the methods the call needs are checked before any I/O, so a store that
// cannot delete is named at once instead of after half of the work.
function readStores(where: string, stores: unknown, method: DeletionMethod): ForgetStores {
  if (stores === null || typeof stores !== "object") {
    throw new TypeError(
      `Invalid ${where} stores ${quote(stores)}: expected { eventLog, snapshotStore }`,
    );
  }
  const { eventLog, snapshotStore } = stores as Partial<ForgetStores>;
  const needs: [string, unknown, string[]][] = [
    ["eventLog", eventLog, ["lastSeqNo", method]],
    ["snapshotStore", snapshotStore, method === "deleteEvents" ? ["load"] : ["delete"]],
  ];
  for (const [name, store, methods] of needs) {
    if (store === null || typeof store !== "object") {
      throw new TypeError(`Invalid ${where} stores.${name} ${quote(store)}: expected an object`);
    }
    for (const method of methods) {
      if (typeof (store as Record<string, unknown>)[method] !== "function") {
        throw new TypeError(
          `Cannot ${where}: stores.${name} has no ${method} method (it does not implement deletion)`,
        );
      }
    }
  }
  return stores as ForgetStores;
}

function entityName(typeName: string, id: string): string {
  return `"${typeName}/${id}"`;
}

/**
 * Deletes the entity's events up to `toSeqNo` (default: its snapshot's seqNo), after checking
 * that its latest snapshot covers them, so that the entity still recovers: it spawns from the
 * snapshot and replays the events after it. The entity's last event always stays, so its seqNo
 * goes on from there; the other events keep their positions. Resolves to how many were deleted.
 *
 * Refuses, before deleting anything, with an Error naming the entity, the snapshot's seqNo and
 * `toSeqNo`, when the entity has no snapshot, when the snapshot does not cover `toSeqNo`, or
 * when the snapshot is newer than the log; with a TypeError or RangeError for bad arguments
 * and for stores without `deleteEvents` or `load`. The snapshot must be one the entity's
 * `Binarize` still decodes: an entity that cannot use its snapshot cannot replay from seqNo 1
 * either, and fails to spawn.
 *
 * Safe while the entity runs: it does not read the deleted events again (one spawning at that
 * moment from an older snapshot may fail that spawn, and recovers on the next). Readers by type and
 * projections that have not reached the deleted events yet never see them; those past them are
 * unaffected; a projection rebuilt from position 0 sees only what remains. Deleted events no
 * longer count for the deduplication of retried commands.
 *
 * @example Delete what a snapshot covers
 * ```ts
 * import { deleteEventsUpTo, MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const stores = { eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() };
 * const events = [1, 2, 3, 4].map((n) => new Uint8Array([n]));
 * await stores.eventLog.persist("counter", "a", null, events);
 * await assert.rejects(deleteEventsUpTo(stores, "counter", "a"), /has no snapshot/);
 * await stores.snapshotStore.save("counter", "a", 3, new Uint8Array([6]));
 * assert.deepEqual(await deleteEventsUpTo(stores, "counter", "a"), { deleted: 3, toSeqNo: 3 });
 * assert.equal(await stores.eventLog.lastSeqNo("counter", "a"), 4);
 * ```
 */
export async function deleteEventsUpTo(
  stores: ForgetStores,
  typeName: string,
  id: string,
  options?: DeleteEventsUpToOptions,
): Promise<DeletedEvents> {
  const where = "deleteEventsUpTo";
  const { eventLog, snapshotStore } = readStores(where, stores, "deleteEvents");
  assertTypeName(typeName);
  assertId(id);
  const { toSeqNo: given, signal } = readOptions<DeleteEventsUpToOptions>(where, options, {
    toSeqNo: integerAtLeast(1, undefined),
    signal: signalOption(),
  });
  throwIfAborted(signal);
  const call = signal === undefined ? {} : { signal };
  const entity = entityName(typeName, id);
  const snapshot = await snapshotStore.load(typeName, id, call);
  if (snapshot === null) {
    throw new Error(
      `Cannot delete the events of ${entity}${
        given === undefined ? "" : ` up to seqNo ${given}`
      }: it has no snapshot, and only events a snapshot covers may be deleted`,
    );
  }
  const toSeqNo = given ?? snapshot.seqNo;
  if (toSeqNo > snapshot.seqNo) {
    throw new Error(
      `Cannot delete the events of ${entity} up to seqNo ${toSeqNo}: its snapshot is at seqNo ${snapshot.seqNo}, which does not cover them`,
    );
  }
  const last = await eventLog.lastSeqNo(typeName, id, call);
  if (last === null) return { deleted: 0, toSeqNo };
  if (snapshot.seqNo > last) {
    throw new Error(
      `Cannot delete the events of ${entity} up to seqNo ${toSeqNo}: its snapshot at seqNo ${snapshot.seqNo} is newer than its last event, seqNo ${last}`,
    );
  }
  throwIfAborted(signal);
  const deleted = await eventLog.deleteEvents!(typeName, id, toSeqNo, call);
  return { deleted, toSeqNo };
}

/**
 * Deletes the entity entirely: its snapshot, then its events. Afterwards the id is free: a new
 * entity with that id starts at seqNo 1, at positions after every position the type has had.
 * Resolves to how many events were deleted.
 *
 * The snapshot goes first: a call interrupted between the two leaves events without a
 * snapshot (which a second call deletes), never a snapshot whose events are gone, which a new
 * entity with the id would otherwise take for its own state.
 *
 * The entity must not be running anywhere while it is deleted (stop it, or `passivate` it in
 * its `EntityRegistry`, and send it no commands until the call has resolved): a running entity
 * could write an event or a snapshot in between, which would outlive the deletion. Readers by
 * type and projections that have not reached its events yet never see them; those past them
 * keep what they built from them.
 *
 * Refuses with a TypeError or RangeError for bad arguments and for stores without
 * `deleteEntity` or `delete`, before deleting anything.
 *
 * @example Forget an entity, then reuse its id
 * ```ts
 * import { deleteEntity, MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const stores = { eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() };
 * await stores.eventLog.persist("user", "u1", null, [new Uint8Array([1]), new Uint8Array([2])]);
 * await stores.snapshotStore.save("user", "u1", 2, new Uint8Array([3]));
 * assert.deepEqual(await deleteEntity(stores, "user", "u1"), { deleted: 2 });
 * assert.equal(await stores.snapshotStore.load("user", "u1"), null);
 * assert.equal(await stores.eventLog.persist("user", "u1", null, [new Uint8Array([9])]), 1);
 * ```
 */
export async function deleteEntity(
  stores: ForgetStores,
  typeName: string,
  id: string,
  options?: CallOptions,
): Promise<DeletedEntity> {
  const where = "deleteEntity";
  const { eventLog, snapshotStore } = readStores(where, stores, "deleteEntity");
  assertTypeName(typeName);
  assertId(id);
  const { signal } = readOptions<CallOptions>(where, options, { signal: signalOption() });
  throwIfAborted(signal);
  const call = signal === undefined ? {} : { signal };
  await snapshotStore.delete!(typeName, id, call);
  throwIfAborted(signal);
  return { deleted: await eventLog.deleteEntity!(typeName, id, call) };
}
