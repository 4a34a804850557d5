/**
 * The snapshot store port: the latest state of an entity as bytes, with its seqNo.
 *
 * @module
 */

import type { CallOptions } from "./event_log.ts";

/**
 * Options of {@linkcode SnapshotStore.save}.
 *
 * @example Save a version-2 snapshot
 * ```ts
 * import { MemorySnapshotStore, type SaveSnapshotOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const store = new MemorySnapshotStore();
 * const options: SaveSnapshotOptions = { version: 2 };
 * await store.save("counter", "a", 3, new Uint8Array([9]), options);
 * assert.equal((await store.load("counter", "a"))?.version, 2);
 * ```
 */
export interface SaveSnapshotOptions extends CallOptions {
  /**
   * The version of the state's encoding (see `Binarize.stateVersion`), an integer from 1 to
   * 2147483647. Default 1.
   */
  version?: number | undefined;
}

/**
 * A stored snapshot: the state after the event `seqNo`, encoded, with its encoding's version.
 *
 * @example Load a snapshot
 * ```ts
 * import { MemorySnapshotStore, type Snapshot } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const store = new MemorySnapshotStore();
 * await store.save("counter", "a", 3, new Uint8Array([9]));
 * const snapshot: Snapshot | null = await store.load("counter", "a");
 * assert.equal(snapshot?.seqNo, 3);
 * ```
 */
export interface Snapshot {
  /** The seqNo of the last event the state includes. */
  readonly seqNo: number;
  /** The encoded state. */
  readonly bytes: Uint8Array;
  /** The version of the state's encoding; 1 when none was given. */
  readonly version: number;
}

/**
 * Storage for snapshots, the latest per typeName and id. A save with a seqNo lower than the
 * stored one is ignored, so an older snapshot never replaces a newer one. Implementations keep
 * the rules in `docs/event-log-rules.md` (shipped with the package; see the README section
 * "The rules every event log keeps"), which `testSnapshotStore` from `./testing` checks.
 *
 * @example Save and load
 * ```ts
 * import { MemorySnapshotStore, type SnapshotStore } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const store: SnapshotStore = new MemorySnapshotStore();
 * await store.save("counter", "a", 10, new Uint8Array([42]));
 * assert.equal((await store.load("counter", "a"))?.seqNo, 10);
 * ```
 */
export interface SnapshotStore {
  /**
   * Stores the snapshot, with `options.version`, unless one with a higher seqNo is already
   * stored.
   */
  save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: SaveSnapshotOptions,
  ): Promise<void>;
  /** The latest snapshot of the entity, or `null`. */
  load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null>;
  /**
   * Deletes every snapshot of the entity. Optional: every snapshot store of this package
   * implements it.
   */
  delete?(typeName: string, id: string, options?: CallOptions): Promise<void>;
}
