/**
 * A {@linkcode KeyStore} in a NATS KV bucket.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, type JetStreamClient, type JetStreamOptions } from "@nats-io/jetstream";
import type { KvEntry } from "@nats-io/kv";
import type { CallOptions } from "../../src/event_log.ts";
import { StorageError } from "../../src/errors.ts";
import type { KeyStore, StoredKey } from "../../shredding/key_store.ts";
import { checkCreate, checkEntity, KEY_ID_BYTES } from "../../shredding/_key_checks.ts";
import { anyValue, integerAtLeast, type OptionRules, readOptions } from "../../src/_options.ts";
import { throwIfAborted } from "../../src/_validate.ts";
import { type NatsConnectOptions, openConnection, readConnectOptions } from "./connect_options.ts";
import { encodeToken } from "./token.ts";
import { withSignal } from "./_jetstream.ts";
import { apiCode, storageError, WRONG_LAST_SEQUENCE } from "./_storage_errors.ts";
import {
  BUCKET_SETUP_RULES,
  BucketHandle,
  bucketOption,
  type BucketSetupOptions,
  createBucket,
} from "./_kv_bucket.ts";
import { closeOwned } from "./_close_owned.ts";

/**
 * Options of a {@linkcode NatsKeyStore}.
 *
 * @example Where an entity's key goes
 * ```ts
 * import { encodeToken, type NatsKeyStoreOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsKeyStoreOptions = { bucket: "shop-keys", timeout: 2_000 };
 * // The key in the bucket is `<typeName>.<encodeToken(id)>`:
 * assert.equal(`customer.${encodeToken("c.1")}`, "customer.c=2E1");
 * assert.equal(options.bucket, "shop-keys");
 * ```
 */
export interface NatsKeyStoreOptions {
  /** The KV bucket; default `"eventsourced-keys"`. */
  bucket?: string;
  /** Milliseconds each request may take before it fails; default 5 000. */
  timeout?: number;
  /** Further JetStream options, such as `domain` or `apiPrefix`. */
  jetStream?: Omit<JetStreamOptions, "timeout">;
}

/**
 * Options of {@linkcode NatsKeyStore.setup}.
 *
 * @example Production and test buckets
 * ```ts
 * import type { NatsKeyStoreSetupOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const production: NatsKeyStoreSetupOptions = { replicas: 3 };
 * const tests: NatsKeyStoreSetupOptions = { storage: "memory" };
 * // await keyStore.setup(process.env.CI ? tests : production);
 * assert.equal(production.storage ?? "file", "file");
 * ```
 */
export interface NatsKeyStoreSetupOptions extends BucketSetupOptions {}

/**
 * Options of {@linkcode NatsKeyStore.connect}: the connection's and the store's.
 *
 * @example A server that does not answer fails at connect
 * ```ts
 * import { NatsKeyStore, type NatsKeyStoreConnectOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsKeyStoreConnectOptions = {
 *   servers: ["ws://127.0.0.1:1"], // nothing listens on port 1
 *   bucket: "shop-keys",
 * };
 * await assert.rejects(NatsKeyStore.connect(options), /Cannot connect to NATS/);
 * ```
 */
export type NatsKeyStoreConnectOptions = NatsConnectOptions & NatsKeyStoreOptions;

const STORE_OPTION_RULES: OptionRules<NatsKeyStoreOptions> = {
  bucket: bucketOption("eventsourced-keys"),
  timeout: integerAtLeast(1, 5_000),
  jetStream: {
    ...anyValue(undefined),
    valid: (value) => typeof value === "object" && value !== null,
    expected: "an object of JetStream options",
  },
};

// Value, format 1: the byte 1, the 16 bytes of the key id, then the key.
const FORMAT_1 = 1;
const HEADER_LENGTH = 1 + KEY_ID_BYTES;
// A create or delete that loses a race looks again; this many races in a row is an error.
const MAX_ATTEMPTS = 20;

function encodeValue(key: StoredKey): Uint8Array {
  const value = new Uint8Array(HEADER_LENGTH + key.key.length);
  value[0] = FORMAT_1;
  value.set(key.keyId, 1);
  value.set(key.key, HEADER_LENGTH);
  return value;
}

function decodeValue(name: string, value: Uint8Array): StoredKey {
  if (value[0] !== FORMAT_1 || value.length <= HEADER_LENGTH) {
    throw new StorageError(`Key "${name}" is not in the format of eventsourced`, {
      reason: "corrupt-data",
    });
  }
  return { keyId: value.slice(1, HEADER_LENGTH), key: value.slice(HEADER_LENGTH) };
}

function isStored(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === "PUT" && entry.value.length > 0;
}

/**
 * The per-entity keys of crypto-shredding in a NATS KV bucket (`"eventsourced-keys"` by
 * default), one value per type name and id under the key `<typeName>.<encodeToken(id)>`.
 * `create` writes only where no value is (KV `create`) and otherwise returns the stored one, so
 * concurrent creates agree on one key. `delete` purges the key: the value and its history leave
 * the stream, and only an empty purge marker stays; the bytes may remain in the server's block
 * files until JetStream compacts them, and in stream backups until they expire. Run
 * {@linkcode NatsKeyStore.setup} once to create the bucket (one value per key, file storage).
 * Failures are `StorageError`s, a missing bucket `"schema-missing"`.
 *
 * @example Create, read and delete over WebSocket
 * ```ts ignore
 * import { NatsKeyStore } from "@eventsourced/eventsourced/nats";
 *
 * const store = await NatsKeyStore.connect({ servers: "ws://127.0.0.1:8080" });
 * await store.setup();
 * const key = { keyId: crypto.getRandomValues(new Uint8Array(16)), key: new Uint8Array(32) };
 * await store.create("customer", "c-1", key);
 * console.log(await store.delete("customer", "c-1")); // true
 * await store.close();
 * ```
 */
export class NatsKeyStore implements KeyStore {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  readonly #kv: BucketHandle;
  #owned = false;

  /**
   * Uses `nc`, which stays the caller's: {@linkcode NatsKeyStore.close} leaves it open.
   *
   * @example Over an existing connection
   * ```ts ignore
   * import { NatsKeyStore } from "@eventsourced/eventsourced/nats";
   * import { wsconnect } from "@nats-io/nats-core";
   *
   * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
   * const store = new NatsKeyStore(nc, { bucket: "shop-keys" });
   * ```
   */
  constructor(nc: NatsConnection, options: NatsKeyStoreOptions = {}) {
    if (typeof nc?.request !== "function") {
      throw new TypeError("Invalid nc: expected a NATS connection");
    }
    const read = readOptions("NatsKeyStore", options, STORE_OPTION_RULES);
    this.#nc = nc;
    this.#bucket = read.bucket!;
    this.#js = jetstream(nc, { ...read.jetStream, timeout: read.timeout! });
    this.#kv = new BucketHandle(this.#js, this.#bucket);
  }

  /**
   * Opens a WebSocket connection that the store owns and closes in
   * {@linkcode NatsKeyStore.close}.
   *
   * @example Connect with a user and password
   * ```ts ignore
   * import { NatsKeyStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsKeyStore.connect({
   *   servers: "ws://127.0.0.1:8080",
   *   user: "app",
   *   pass: "s3cret",
   * });
   * await store.close();
   * ```
   */
  static async connect(options: NatsKeyStoreConnectOptions): Promise<NatsKeyStore> {
    const read = readConnectOptions("NatsKeyStore.connect", options, STORE_OPTION_RULES);
    const nc = await openConnection(read);
    try {
      const { bucket, timeout, jetStream } = read;
      const store = new NatsKeyStore(nc, {
        bucket: bucket!,
        timeout: timeout!,
        ...(jetStream ? { jetStream } : {}),
      });
      store.#owned = true;
      return store;
    } catch (error) {
      await closeOwned(nc);
      throw error;
    }
  }

  /** The connection the store uses. */
  get connection(): NatsConnection {
    return this.#nc;
  }

  /**
   * Creates the bucket if it is missing: one value per key (history 1), file storage,
   * `replicas` copies, no expiry. An existing bucket is used as it is. Safe to call again.
   *
   * @example Create the bucket
   * ```ts ignore
   * import { NatsKeyStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsKeyStore.connect({ servers: "ws://127.0.0.1:8080" });
   * await store.setup({ replicas: 1 });
   * ```
   */
  async setup(options: NatsKeyStoreSetupOptions = {}): Promise<void> {
    const read = readOptions("NatsKeyStore.setup", options, BUCKET_SETUP_RULES);
    await createBucket(this.#js, this.#bucket, read as Required<BucketSetupOptions>);
  }

  /**
   * Closes the connection if {@linkcode NatsKeyStore.connect} opened it.
   *
   * @example Close an owned connection
   * ```ts ignore
   * import { NatsKeyStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsKeyStore.connect({ servers: "ws://127.0.0.1:8080" });
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#owned) await closeOwned(this.#nc);
  }

  /** {@inheritDoc KeyStore.get} */
  async get(typeName: string, id: string, options?: CallOptions): Promise<StoredKey | null> {
    const signal = checkEntity("get", typeName, id, options);
    const name = `${typeName}.${encodeToken(id)}`;
    const entry = await this.#read(name, signal, `Cannot read the key of "${typeName}/${id}"`);
    return isStored(entry) ? decodeValue(name, entry.value) : null;
  }

  /** {@inheritDoc KeyStore.create} */
  async create(
    typeName: string,
    id: string,
    key: StoredKey,
    options?: CallOptions,
  ): Promise<StoredKey> {
    const { key: given, signal } = checkCreate(typeName, id, key, options);
    const what = `Cannot create the key of "${typeName}/${id}"`;
    const name = `${typeName}.${encodeToken(id)}`;
    const value = encodeValue(given);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let kv;
      try {
        kv = await withSignal(this.#kv.open(), signal);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        throw storageError(`${what}, nothing was written`, error, "read");
      }
      // The last moment the signal stops the create; once sent, it waits for the answer.
      throwIfAborted(signal);
      try {
        await kv.create(name, value);
        return { keyId: given.keyId.slice(), key: given.key.slice() };
      } catch (error) {
        if (apiCode(error) !== WRONG_LAST_SEQUENCE) throw storageError(what, error, "write");
        // Another writer stored a key first: return that one.
      }
      const entry = await this.#read(name, signal, what);
      if (isStored(entry)) return decodeValue(name, entry.value);
      // Deleted again in between: try once more.
    }
    throw new StorageError(`${what}: ${MAX_ATTEMPTS} competing writes in a row`, {
      reason: "failed",
    });
  }

  /** {@inheritDoc KeyStore.delete} */
  async delete(typeName: string, id: string, options?: CallOptions): Promise<boolean> {
    const signal = checkEntity("delete", typeName, id, options);
    const what = `Cannot delete the key of "${typeName}/${id}"`;
    const name = `${typeName}.${encodeToken(id)}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.#read(name, signal, what);
      if (!isStored(entry)) return false;
      throwIfAborted(signal);
      try {
        // A purge with rollup removes every earlier revision of the key; a plain KV delete
        // would keep them in the bucket's history.
        const kv = await this.#kv.open();
        await kv.purge(name, { previousSeq: entry.revision });
        return true;
      } catch (error) {
        if (apiCode(error) !== WRONG_LAST_SEQUENCE) throw storageError(what, error, "write");
        // Another writer changed the key since the read: look again.
      }
    }
    throw new StorageError(`${what}: ${MAX_ATTEMPTS} competing writes in a row`, {
      reason: "failed",
    });
  }

  async #read(
    name: string,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<KvEntry | null> {
    try {
      const kv = await withSignal(this.#kv.open(), signal);
      return await withSignal(kv.get(name), signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(what, error, "read");
    }
  }
}
