// Package-private access to what the memory stores hold, for the memory StoreAdmin only. Each
// class hands over a reader of its private fields once, from a static block, so the public API
// stays as it is and an instance pays nothing; never export this from a mod.ts.

import type { PersistedEvent } from "./event_log.ts";
import type { Snapshot } from "./snapshot_store.ts";
import type { Wakeups } from "./_event_stream.ts";

/**
 * The events of one type name in a memory log: every event at index position - 1, and each
 * entity's at index seqNo - 1; a deleted event leaves `undefined` in its place, counted in
 * `deleted`, so indices never move under a reader.
 */
export interface MemoryTypeEvents {
  readonly all: (PersistedEvent | undefined)[];
  readonly byId: Map<string, (PersistedEvent | undefined)[]>;
  readonly wakeups: Wakeups;
  /** How many places of `all` are `undefined`. */
  deleted: number;
}

/** The contents of a memory log: its types, and how to add one it does not hold yet. */
export interface MemoryLogContents {
  readonly types: ReadonlyMap<string, MemoryTypeEvents>;
  typeEvents(typeName: string): MemoryTypeEvents;
}

let logContents: ((log: object) => MemoryLogContents | undefined) | undefined;
let snapshotContents:
  | ((store: object) => Map<string, Map<string, Snapshot>> | undefined)
  | undefined;

/** Called once by `MemoryEventLog`'s static block. */
export function exposeMemoryLog(read: (log: object) => MemoryLogContents | undefined): void {
  logContents = read;
}

/** Called once by `MemorySnapshotStore`'s static block. */
export function exposeMemorySnapshots(
  read: (store: object) => Map<string, Map<string, Snapshot>> | undefined,
): void {
  snapshotContents = read;
}

/** The contents of `log`, or `undefined` when it is not a `MemoryEventLog`. */
export function memoryLogContents(log: object): MemoryLogContents | undefined {
  return logContents?.(log);
}

/** The snapshots of `store` by type and id, or `undefined` when it is not a `MemorySnapshotStore`. */
export function memorySnapshots(store: object): Map<string, Map<string, Snapshot>> | undefined {
  return snapshotContents?.(store);
}
