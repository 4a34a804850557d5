/**
 * A {@linkcode SnapshotStore} in a NATS KV bucket.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, type JetStreamClient, type JetStreamOptions } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { CallOptions } from "../../src/event_log.ts";
import type { Snapshot, SnapshotStore } from "../../src/snapshot_store.ts";
import {
  assertId,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
import { type NatsConnectOptions, openConnection } from "./connect_options.ts";
import { encodeToken } from "./token.ts";
import { apiCode, STREAM_NOT_FOUND, withSignal, WRONG_LAST_SEQUENCE } from "./_jetstream.ts";
import { errorMessage } from "./_reader.ts";

/**
 * Options of a {@linkcode NatsSnapshotStore}.
 *
 * @example Where an entity's snapshot goes
 * ```ts
 * import { encodeToken, type NatsSnapshotStoreOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsSnapshotStoreOptions = { bucket: "shop-snapshots", timeout: 2_000 };
 * // The key in the bucket is `<typeName>.<encodeToken(id)>`:
 * assert.equal(`cart.${encodeToken("c.1")}`, "cart.c=2E1");
 * assert.equal(options.bucket, "shop-snapshots");
 * ```
 */
export interface NatsSnapshotStoreOptions {
  /** The KV bucket; default `"eventsourced-snapshots"`. */
  bucket?: string;
  /** Milliseconds each request may take before it fails; default 5 000. */
  timeout?: number;
  /** Further JetStream options, such as `domain` or `apiPrefix`. */
  jetStream?: Omit<JetStreamOptions, "timeout">;
}

/**
 * Options of {@linkcode NatsSnapshotStore.setup}.
 *
 * @example Production and test buckets
 * ```ts
 * import type { NatsSnapshotStoreSetupOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const production: NatsSnapshotStoreSetupOptions = { replicas: 3 };
 * const tests: NatsSnapshotStoreSetupOptions = { storage: "memory" };
 * // await snapshotStore.setup(process.env.CI ? tests : production);
 * assert.equal(production.storage ?? "file", "file");
 * assert.equal(tests.replicas ?? 1, 1);
 * ```
 */
export interface NatsSnapshotStoreSetupOptions {
  /** Replicas of the bucket on a clustered server; default 1. */
  replicas?: number;
  /** `"file"` (default) or `"memory"`. */
  storage?: "file" | "memory";
}

/**
 * Options of {@linkcode NatsSnapshotStore.connect}: the connection's and the store's.
 *
 * @example A server that does not answer fails at connect
 * ```ts
 * import {
 *   NatsSnapshotStore,
 *   type NatsSnapshotStoreConnectOptions,
 * } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsSnapshotStoreConnectOptions = {
 *   servers: ["ws://127.0.0.1:1"], // nothing listens on port 1
 *   name: "shop-api",
 *   bucket: "shop-snapshots",
 * };
 * await assert.rejects(NatsSnapshotStore.connect(options), /Cannot connect to NATS/);
 * ```
 */
export type NatsSnapshotStoreConnectOptions = NatsConnectOptions & NatsSnapshotStoreOptions;

// Value: format byte 1, the seqNo as an unsigned 64-bit big-endian integer, then the state.
const FORMAT = 1;
const HEADER_LENGTH = 9;
const MAX_ATTEMPTS = 20;

function encodeValue(seqNo: number, bytes: Uint8Array): Uint8Array {
  const value = new Uint8Array(HEADER_LENGTH + bytes.length);
  value[0] = FORMAT;
  new DataView(value.buffer).setBigUint64(1, BigInt(seqNo));
  value.set(bytes, HEADER_LENGTH);
  return value;
}

function decodeValue(key: string, value: Uint8Array): Snapshot {
  if (value.length < HEADER_LENGTH || value[0] !== FORMAT) {
    throw new Error(`Snapshot "${key}" is not in the format of eventsourced`);
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const seqNo = Number(view.getBigUint64(1));
  return { seqNo, bytes: value.slice(HEADER_LENGTH) };
}

/**
 * Snapshots in a NATS KV bucket, the latest per type name and id under the key
 * `<typeName>.<encodeToken(id)>`. A save reads the stored snapshot and writes with
 * compare-and-set on its revision, so an older snapshot never replaces a newer one, also
 * with several writers. Run {@linkcode NatsSnapshotStore.setup} once to create the bucket.
 *
 * @example Save and load over WebSocket
 * ```ts ignore
 * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
 *
 * const store = await NatsSnapshotStore.connect({ servers: "ws://127.0.0.1:8080" });
 * await store.setup();
 * await store.save("counter", "a", 10, new Uint8Array([42]));
 * console.log((await store.load("counter", "a"))?.seqNo); // 10
 * await store.close();
 * ```
 */
export class NatsSnapshotStore implements SnapshotStore {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  readonly #timeout: number;
  #owned = false;
  #kv: Promise<KV> | undefined;

  /**
   * Uses `nc`, which stays the caller's: {@linkcode NatsSnapshotStore.close} leaves it open.
   *
   * @example Over an existing connection
   * ```ts ignore
   * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
   * import { wsconnect } from "@nats-io/nats-core";
   *
   * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
   * const store = new NatsSnapshotStore(nc, { bucket: "order-snapshots" });
   * ```
   */
  constructor(nc: NatsConnection, options: NatsSnapshotStoreOptions = {}) {
    this.#nc = nc;
    this.#bucket = options.bucket ?? "eventsourced-snapshots";
    this.#timeout = options.timeout ?? 5_000;
    if (!/^[-\w]+$/.test(this.#bucket)) {
      throw new TypeError(
        `Invalid bucket ${JSON.stringify(this.#bucket)}: expected A-Z, a-z, 0-9, "-" or "_"`,
      );
    }
    assertPositiveInteger(this.#timeout, "timeout");
    this.#js = jetstream(nc, { ...options.jetStream, timeout: this.#timeout });
  }

  /**
   * Opens a WebSocket connection that the store owns and closes in
   * {@linkcode NatsSnapshotStore.close}.
   *
   * @example Connect with a token
   * ```ts ignore
   * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsSnapshotStore.connect({ servers: "ws://127.0.0.1:8080", token: "t0k3n" });
   * await store.close();
   * ```
   */
  static async connect(options: NatsSnapshotStoreConnectOptions): Promise<NatsSnapshotStore> {
    const nc = await openConnection(options);
    try {
      const store = new NatsSnapshotStore(nc, options);
      store.#owned = true;
      return store;
    } catch (error) {
      await nc.close();
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
   * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsSnapshotStore.connect({ servers: "ws://127.0.0.1:8080" });
   * await store.setup({ replicas: 1 });
   * ```
   */
  async setup(options: NatsSnapshotStoreSetupOptions = {}): Promise<void> {
    const replicas = options.replicas ?? 1;
    assertPositiveInteger(replicas, "replicas");
    const jsm = await this.#js.jetstreamManager(false);
    try {
      await jsm.streams.info(`KV_${this.#bucket}`);
      return;
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    }
    const kvOptions: Partial<KvOptions> = {
      history: 1,
      replicas,
      storage: options.storage === "memory" ? "memory" : "file",
    } as Partial<KvOptions>;
    await new Kvm(this.#js).create(this.#bucket, kvOptions);
  }

  /**
   * Closes the connection if {@linkcode NatsSnapshotStore.connect} opened it.
   *
   * @example Close an owned connection
   * ```ts ignore
   * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsSnapshotStore.connect({ servers: "ws://127.0.0.1:8080" });
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#owned && !this.#nc.isClosed()) await this.#nc.close();
  }

  /** {@inheritDoc SnapshotStore.save} */
  async save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: CallOptions,
  ): Promise<void> {
    assertTypeName(typeName);
    assertId(id);
    assertPositiveInteger(seqNo, "seqNo");
    if (!(bytes instanceof Uint8Array)) throw new TypeError("Invalid bytes: expected a Uint8Array");
    const signal = options?.signal;
    throwIfAborted(signal);
    const key = `${typeName}.${encodeToken(id)}`;
    const value = encodeValue(seqNo, bytes);
    try {
      const kv = await withSignal(this.#open(), signal);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const entry = await withSignal(kv.get(key), signal);
        const stored = entry !== null && entry.operation === "PUT" && entry.value.length > 0;
        if (stored && decodeValue(key, entry.value).seqNo >= seqNo) return;
        try {
          if (stored) await withSignal(kv.update(key, value, entry.revision), signal);
          else await withSignal(kv.create(key, value), signal);
          return;
        } catch (error) {
          if (apiCode(error) !== WRONG_LAST_SEQUENCE) throw error;
          // Another save got there first: look again.
        }
      }
      throw new Error(`${MAX_ATTEMPTS} competing saves in a row`);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw new Error(
        `Cannot save the snapshot of "${typeName}/${id}" at seqNo ${seqNo}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  /** {@inheritDoc SnapshotStore.load} */
  async load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
    assertTypeName(typeName);
    assertId(id);
    const signal = options?.signal;
    throwIfAborted(signal);
    const key = `${typeName}.${encodeToken(id)}`;
    try {
      const kv = await withSignal(this.#open(), signal);
      const entry = await withSignal(kv.get(key), signal);
      if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return null;
      return decodeValue(key, entry.value);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw new Error(
        `Cannot load the snapshot of "${typeName}/${id}": ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  // Binds to the bucket once (again after a failure): a missing bucket is a clear error.
  #open(): Promise<KV> {
    if (this.#kv === undefined) {
      const kv = (async () => {
        const jsm = await this.#js.jetstreamManager(false);
        let info;
        try {
          info = await jsm.streams.info(`KV_${this.#bucket}`);
        } catch (error) {
          if (apiCode(error) === STREAM_NOT_FOUND) {
            throw new Error(`bucket "${this.#bucket}" does not exist (call setup() first)`, {
              cause: error,
            });
          }
          throw error;
        }
        return await new Kvm(this.#js).open(this.#bucket, {
          allow_direct: info.config.allow_direct === true,
        } as Partial<KvOptions>);
      })();
      this.#kv = kv;
      kv.catch(() => (this.#kv = undefined));
    }
    return this.#kv;
  }
}
