// Argument checks shared by every key store, so that each refuses the same bad input with the
// same message before any write.

import { assertId, assertTypeName, throwIfAborted } from "../src/_validate.ts";
import { callSignal } from "../src/_call_options.ts";
import type { CallOptions } from "../src/event_log.ts";
import type { StoredKey } from "./key_store.ts";

/** The size of a key id, in bytes. */
export const KEY_ID_BYTES = 16;
/** The smallest key a store takes, in bytes (an AES-128 key). */
export const MIN_KEY_BYTES = 16;
/** The largest key a store takes, in bytes: room for any wrapped key, far below row limits. */
export const MAX_KEY_BYTES = 1024;

/**
 * Checks the arguments of `get` or `delete` (`where`) and returns the call's signal; throws a
 * TypeError or RangeError naming what is wrong, or the signal's reason when it is aborted.
 */
export function checkEntity(
  where: string,
  typeName: unknown,
  id: unknown,
  options: CallOptions | undefined,
): AbortSignal | undefined {
  assertTypeName(typeName);
  assertId(id);
  const signal = callSignal(where, options);
  throwIfAborted(signal);
  return signal;
}

/**
 * Checks the arguments of `create` and returns the key's bytes copied (so a caller changing its
 * arrays later changes nothing stored) with the call's signal.
 */
export function checkCreate(
  typeName: unknown,
  id: unknown,
  key: unknown,
  options: CallOptions | undefined,
): { key: StoredKey; signal: AbortSignal | undefined } {
  assertTypeName(typeName);
  assertId(id);
  const copy = copyStoredKey(key);
  const signal = callSignal("create", options);
  throwIfAborted(signal);
  return { key: copy, signal };
}

/** A copy of `key` after checking its shape; throws a TypeError or RangeError otherwise. */
export function copyStoredKey(key: unknown): StoredKey {
  if (key === null || typeof key !== "object") {
    // A key given as text is key material: the message names its type, never its value.
    throw new TypeError(`Invalid key (${describe(key)}): expected an object { keyId, key }`);
  }
  const { keyId, key: bytes } = key as { keyId?: unknown; key?: unknown };
  if (!(keyId instanceof Uint8Array)) {
    throw new TypeError(`Invalid key.keyId: expected a Uint8Array, got ${describe(keyId)}`);
  }
  if (keyId.byteLength !== KEY_ID_BYTES) {
    throw new RangeError(
      `Invalid key.keyId: ${keyId.byteLength} bytes, expected exactly ${KEY_ID_BYTES}`,
    );
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Invalid key.key: expected a Uint8Array, got ${describe(bytes)}`);
  }
  if (bytes.byteLength < MIN_KEY_BYTES || bytes.byteLength > MAX_KEY_BYTES) {
    throw new RangeError(
      `Invalid key.key: ${bytes.byteLength} bytes, expected ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES}`,
    );
  }
  return { keyId: keyId.slice(), key: bytes.slice() };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}
