/**
 * An in-memory {@linkcode SnapshotStore}.
 *
 * @module
 */

import type { CallOptions } from "./event_log.ts";
import type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "./snapshot_store.ts";
import { assertId, assertPositiveInteger, assertTypeName, throwIfAborted } from "./_validate.ts";
import { callSignal } from "./_call_options.ts";
import { readSaveOptions } from "./_persist_options.ts";
import { exposeMemorySnapshots } from "./_memory_internals.ts";

/**
 * Snapshots kept in memory, the latest per type name and id; an older one never replaces a
 * newer one. Lost when the process ends.
 *
 * @example Keep the newest snapshot
 * ```ts
 * import { MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const store = new MemorySnapshotStore();
 * await store.save("counter", "a", 20, new Uint8Array([2]));
 * await store.save("counter", "a", 10, new Uint8Array([1]));
 * assert.equal((await store.load("counter", "a"))?.seqNo, 20);
 * ```
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Map<string, Snapshot>>();

  static {
    exposeMemorySnapshots((store) => #snapshots in store ? store.#snapshots : undefined);
  }

  /** {@inheritDoc SnapshotStore.save} */
  save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: SaveSnapshotOptions,
  ): Promise<void> {
    let version: number;
    try {
      assertTypeName(typeName);
      assertId(id);
      assertPositiveInteger(seqNo, "seqNo");
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError("Invalid bytes: expected a Uint8Array");
      }
      const call = readSaveOptions("save", options);
      version = call.version;
      throwIfAborted(call.signal);
    } catch (error) {
      return Promise.reject(error);
    }
    let byId = this.#snapshots.get(typeName);
    if (byId === undefined) {
      byId = new Map();
      this.#snapshots.set(typeName, byId);
    }
    const current = byId.get(id);
    if (current === undefined || current.seqNo < seqNo) {
      byId.set(id, { seqNo, bytes: bytes.slice(), version });
    }
    return Promise.resolve();
  }

  /** {@inheritDoc SnapshotStore.load} */
  load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
    try {
      assertTypeName(typeName);
      assertId(id);
      throwIfAborted(callSignal("load", options));
    } catch (error) {
      return Promise.reject(error);
    }
    const snapshot = this.#snapshots.get(typeName)?.get(id);
    return Promise.resolve(
      snapshot === undefined ? null : { ...snapshot, bytes: snapshot.bytes.slice() },
    );
  }

  /** {@inheritDoc SnapshotStore.delete} */
  delete(typeName: string, id: string, options?: CallOptions): Promise<void> {
    try {
      assertTypeName(typeName);
      assertId(id);
      throwIfAborted(callSignal("delete", options));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#snapshots.get(typeName)?.delete(id);
    return Promise.resolve();
  }
}
