/**
 * An in-memory {@linkcode KeyStore}.
 *
 * @module
 */

import type { CallOptions } from "../src/event_log.ts";
import type { KeyStore, StoredKey } from "./key_store.ts";
import { checkCreate, checkEntity } from "./_key_checks.ts";

/**
 * Keys kept in memory, one per type name and id; lost when the process ends (so are the
 * entities' encrypted data, for anyone who only had this store). Bytes are copied in and out:
 * changing an array given to or returned by the store never changes the stored key.
 *
 * @example Create, read and delete an entity's key
 * ```ts
 * import { MemoryKeyStore } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryKeyStore();
 * const key = { keyId: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(2) };
 * const first = await store.create("customer", "c-1", key);
 * // A second create keeps the first key and returns it.
 * const second = await store.create("customer", "c-1", { ...key, keyId: new Uint8Array(16) });
 * assert.deepEqual(second.keyId, first.keyId);
 * assert.equal(await store.delete("customer", "c-1"), true);
 * assert.equal(await store.get("customer", "c-1"), null);
 * ```
 */
export class MemoryKeyStore implements KeyStore {
  readonly #keys = new Map<string, Map<string, StoredKey>>();

  /** {@inheritDoc KeyStore.get} */
  get(typeName: string, id: string, options?: CallOptions): Promise<StoredKey | null> {
    try {
      checkEntity("get", typeName, id, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const stored = this.#keys.get(typeName)?.get(id);
    return Promise.resolve(stored === undefined ? null : copy(stored));
  }

  /** {@inheritDoc KeyStore.create} */
  create(
    typeName: string,
    id: string,
    key: StoredKey,
    options?: CallOptions,
  ): Promise<StoredKey> {
    let checked: StoredKey;
    try {
      checked = checkCreate(typeName, id, key, options).key;
    } catch (error) {
      return Promise.reject(error);
    }
    let byId = this.#keys.get(typeName);
    if (byId === undefined) {
      byId = new Map();
      this.#keys.set(typeName, byId);
    }
    const current = byId.get(id);
    if (current !== undefined) return Promise.resolve(copy(current));
    byId.set(id, checked);
    return Promise.resolve(copy(checked));
  }

  /** {@inheritDoc KeyStore.delete} */
  delete(typeName: string, id: string, options?: CallOptions): Promise<boolean> {
    try {
      checkEntity("delete", typeName, id, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const byId = this.#keys.get(typeName);
    const had = byId?.delete(id) ?? false;
    if (byId !== undefined && byId.size === 0) this.#keys.delete(typeName);
    return Promise.resolve(had);
  }
}

function copy(key: StoredKey): StoredKey {
  return { keyId: key.keyId.slice(), key: key.key.slice() };
}
