// The entities' AES-GCM keys as the shredding layer uses them: read from the key store (and
// unwrapped with the master key), created on first use, and kept in a bounded cache for a
// while so that a replay or a batch of a reader looks a key up once.

import type { KeyStore, StoredKey } from "./key_store.ts";

/** An entity's key, ready to encrypt and decrypt. */
export interface EntityKey {
  readonly keyId: Uint8Array;
  readonly key: CryptoKey;
}

const KEY_ID_BYTES = 16;
const RAW_KEY_BYTES = 32;
const WRAPPED_KEY_BYTES = 40;
const USAGES: KeyUsage[] = ["encrypt", "decrypt"];

/** The most keys a ring caches; the oldest goes first. */
export const MAX_CACHED_KEYS = 10_000;

export class KeyRing {
  readonly #store: KeyStore;
  readonly #master: Promise<CryptoKey> | undefined;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { key: EntityKey; expires: number }>();
  // Raised by every forget, so that a lookup that began before it does not cache the old key.
  #generation = 0;

  constructor(store: KeyStore, master: Promise<CryptoKey> | undefined, ttlMs: number) {
    this.#store = store;
    this.#master = master;
    this.#ttlMs = ttlMs;
  }

  /** The entity's key, or `null` when it has none. Key store errors propagate. */
  async find(
    typeName: string,
    id: string,
    signal: AbortSignal | undefined,
  ): Promise<EntityKey | null> {
    const cached = this.#cached(typeName, id);
    if (cached !== undefined) return cached;
    const generation = this.#generation;
    const stored = await this.#store.get(typeName, id, { signal });
    if (stored === null) return null;
    return this.#remember(typeName, id, await this.#import(typeName, id, stored), generation);
  }

  /**
   * The key to encrypt with, created when the entity has none (a new key after a forget).
   * Writes ask the store every time, past the cache: a key that another process forgot must
   * not encrypt new data, which would read as forgotten as soon as it was acknowledged.
   */
  async obtain(typeName: string, id: string, signal: AbortSignal | undefined): Promise<EntityKey> {
    const generation = this.#generation;
    const stored = await this.#store.get(typeName, id, { signal });
    if (stored !== null) {
      const cached = this.#cached(typeName, id);
      if (cached !== undefined && sameBytes(cached.keyId, stored.keyId)) return cached;
      return this.#remember(typeName, id, await this.#import(typeName, id, stored), generation);
    }
    const created = await this.#store.create(typeName, id, await this.#newKey(), { signal });
    return this.#remember(typeName, id, await this.#import(typeName, id, created), generation);
  }

  /** Deletes the entity's key in the store and the cache; whether the store had one. */
  async forget(typeName: string, id: string, signal: AbortSignal | undefined): Promise<boolean> {
    this.#generation++;
    this.#cache.delete(cacheKey(typeName, id));
    try {
      return await this.#store.delete(typeName, id, { signal });
    } finally {
      this.#generation++;
      this.#cache.delete(cacheKey(typeName, id));
    }
  }

  #cached(typeName: string, id: string): EntityKey | undefined {
    const name = cacheKey(typeName, id);
    const entry = this.#cache.get(name);
    if (entry === undefined) return undefined;
    if (entry.expires > Date.now()) return entry.key;
    this.#cache.delete(name);
    return undefined;
  }

  #remember(typeName: string, id: string, key: EntityKey, generation: number): EntityKey {
    if (this.#ttlMs === 0 || generation !== this.#generation) return key;
    const name = cacheKey(typeName, id);
    this.#cache.delete(name);
    if (this.#cache.size >= MAX_CACHED_KEYS) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(name, { key, expires: Date.now() + this.#ttlMs });
    return key;
  }

  async #newKey(): Promise<StoredKey> {
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, USAGES);
    const master = await this.#master;
    const bytes = master === undefined
      ? await crypto.subtle.exportKey("raw", key)
      : await crypto.subtle.wrapKey("raw", key, master, "AES-KW");
    return {
      keyId: crypto.getRandomValues(new Uint8Array(KEY_ID_BYTES)),
      key: new Uint8Array(bytes),
    };
  }

  async #import(typeName: string, id: string, stored: StoredKey): Promise<EntityKey> {
    const entity = `${typeName} ${JSON.stringify(id)}`;
    if (!(stored?.keyId instanceof Uint8Array) || stored.keyId.length !== KEY_ID_BYTES) {
      throw new Error(
        `shredding: the key store gave the key of ${entity} a key id that is not 16 bytes`,
      );
    }
    if (!(stored.key instanceof Uint8Array)) {
      throw new Error(`shredding: the key store gave the key of ${entity} without its bytes`);
    }
    const master = await this.#master;
    const bytes = stored.key.slice();
    if (master === undefined) {
      if (bytes.length === WRAPPED_KEY_BYTES) {
        throw new Error(
          `shredding: the key of ${entity} is wrapped by a master key, and no \`masterKey\` is given`,
        );
      }
      if (bytes.length !== RAW_KEY_BYTES) {
        throw new Error(`shredding: the key of ${entity} has ${bytes.length} bytes, not 32`);
      }
      const key = await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, USAGES);
      return { keyId: stored.keyId.slice(), key };
    }
    if (bytes.length !== WRAPPED_KEY_BYTES) {
      throw new Error(
        `shredding: the key of ${entity} has ${bytes.length} bytes, not the 40 of a key wrapped ` +
          "by the master key (was it stored without one?)",
      );
    }
    let key: CryptoKey;
    try {
      key = await crypto.subtle.unwrapKey("raw", bytes, master, "AES-KW", "AES-GCM", false, USAGES);
    } catch (error) {
      throw new Error(`shredding: the master key does not unwrap the key of ${entity}`, {
        cause: error,
      });
    }
    return { keyId: stored.keyId.slice(), key };
  }
}

/** The master key as a CryptoKey for AES-KW, checked. */
export async function importMasterKey(master: CryptoKey | Uint8Array): Promise<CryptoKey> {
  if (master instanceof Uint8Array) {
    return await crypto.subtle.importKey("raw", master.slice(), "AES-KW", false, [
      "wrapKey",
      "unwrapKey",
    ]);
  }
  return master;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function cacheKey(typeName: string, id: string): string {
  return `${typeName}\u0000${id}`;
}
