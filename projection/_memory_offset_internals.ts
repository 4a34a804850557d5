// Package-private access to what a MemoryOffsetStore holds, for the memory StoreAdmin only:
// handed over once from the class's static block, so the public API stays as it is.

import type { NameLocks } from "./_name_locks.ts";

/** The offsets of a memory offset store and the locks its runners take. */
export interface MemoryOffsetContents {
  readonly offsets: Map<string, number>;
  /** The offsets of projections over several types: by projection name, then type name. */
  readonly typeOffsets: Map<string, Map<string, number>>;
  readonly locks: NameLocks;
}

let contents: ((store: object) => MemoryOffsetContents | undefined) | undefined;

/** Called once by `MemoryOffsetStore`'s static block. */
export function exposeMemoryOffsets(
  read: (store: object) => MemoryOffsetContents | undefined,
): void {
  contents = read;
}

/** The contents of `store`, or `undefined` when it is not a `MemoryOffsetStore`. */
export function memoryOffsetContents(store: object): MemoryOffsetContents | undefined {
  return contents?.(store);
}
