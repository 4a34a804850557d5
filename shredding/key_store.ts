/**
 * The key store port of crypto-shredding: one encryption key per entity, kept apart from the
 * events it encrypts, so that deleting the key forgets the entity's encrypted data for good
 * while the log stays intact.
 *
 * @module
 */

import type { CallOptions } from "../src/event_log.ts";

/**
 * An entity's key as a key store keeps it: `keyId` names this key (a new key after a deletion
 * has a new id, so data encrypted with the old one reads as forgotten, never as garbage), and
 * `key` holds the key's bytes (raw, or wrapped by a master key: the store does not care).
 *
 * @example A stored key as a key store gives it back
 * ```ts
 * import { MemoryKeyStore, type StoredKey } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const key: StoredKey = { keyId: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(2) };
 * const stored = await new MemoryKeyStore().create("customer", "c-1", key);
 * assert.deepEqual(stored, key);
 * ```
 */
export interface StoredKey {
  /** 16 random bytes naming this key. */
  readonly keyId: Uint8Array;
  /** The key's bytes, as the shredding layer gave them. */
  readonly key: Uint8Array;
}

/**
 * Where the per-entity keys live: memory, PostgreSQL, PGlite or a NATS KV bucket, beside the
 * event logs. A key store only stores bytes; creating, wrapping and using keys is the shredding
 * layer's work.
 *
 * @example The first key wins
 * ```ts
 * import { type KeyStore, MemoryKeyStore } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const store: KeyStore = new MemoryKeyStore();
 * const first = { keyId: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(1) };
 * const second = { keyId: new Uint8Array(16).fill(2), key: new Uint8Array(32).fill(2) };
 * await store.create("customer", "c-1", first);
 * assert.deepEqual(await store.create("customer", "c-1", second), first);
 * assert.equal(await store.delete("customer", "c-1"), true);
 * assert.equal(await store.get("customer", "c-1"), null);
 * ```
 */
export interface KeyStore {
  /** The entity's key, or `null` when it has none (it never had one, or it was deleted). */
  get(typeName: string, id: string, options?: CallOptions): Promise<StoredKey | null>;
  /**
   * Stores `key` as the entity's key unless it already has one, and resolves to the key the
   * entity has then: `key`, or the one another writer stored first. Two processes creating
   * the first key of an entity at once end up with the same key.
   */
  create(typeName: string, id: string, key: StoredKey, options?: CallOptions): Promise<StoredKey>;
  /**
   * Deletes the entity's key for good (no history or backup of it is kept by the store);
   * resolves to whether it had one.
   */
  delete(typeName: string, id: string, options?: CallOptions): Promise<boolean>;
}
