// Argument checks shared by every StoreAdmin, so each call names what was wrong the same way
// on every backend, before any read or write.

import { readOptions, signalOption } from "../src/_options.ts";
import { callSignal } from "../src/_call_options.ts";
import type { CallOptions } from "../src/event_log.ts";
import type { SnapshotStore } from "../src/snapshot_store.ts";
import { assertNonNegativeInteger, assertTypeName } from "../src/_validate.ts";
import { assertProjectionName } from "../projection/_name_locks.ts";
import type { AdminReadOptions, ResetProjectionOptions, StoredSnapshot } from "./store_admin.ts";

/** Checks a listing's arguments; returns its signal. */
export function readListing(
  where: string,
  typeName: unknown,
  options: AdminReadOptions | undefined,
): AbortSignal | undefined {
  assertTypeName(typeName);
  return readOptions<AdminReadOptions>(where, options, { signal: signalOption() }).signal;
}

/** Checks the options of a call; returns its signal, throwing its reason when aborted. */
export function readCall(where: string, options: CallOptions | undefined): AbortSignal | undefined {
  const signal = callSignal(where, options);
  signal?.throwIfAborted();
  return signal;
}

/** Checks the arguments of `resetProjection`; returns its signal and type name. */
export function readReset(
  name: unknown,
  offset: unknown,
  options: ResetProjectionOptions | undefined,
): { signal: AbortSignal | undefined; typeName: string | undefined } {
  assertProjectionName(name);
  assertNonNegativeInteger(offset, "offset");
  const read = readOptions<ResetProjectionOptions>("resetProjection", options, {
    signal: signalOption(),
    typeName: { default: undefined, valid: () => true, expected: "a type name" },
  });
  if (read.typeName !== undefined) assertTypeName(read.typeName);
  read.signal?.throwIfAborted();
  return { signal: read.signal, typeName: read.typeName };
}

/**
 * `importSnapshot` of every admin: a `save` with the snapshot's version, whose checks name a
 * bad field; a snapshot that is no object is a TypeError.
 */
export function importSnapshotInto(
  store: SnapshotStore,
  snapshot: StoredSnapshot,
  options: CallOptions | undefined,
): Promise<void> {
  try {
    if (typeof snapshot !== "object" || snapshot === null) {
      throw new TypeError(
        `Invalid snapshot ${String(snapshot)}: expected { typeName, id, seqNo, bytes, version }`,
      );
    }
    const signal = readCall("importSnapshot", options);
    const { typeName, id, seqNo, bytes, version } = snapshot;
    return store.save(typeName, id, seqNo, bytes, { version, signal });
  } catch (error) {
    return Promise.reject(error);
  }
}
