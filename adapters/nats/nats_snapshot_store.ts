/**
 * A {@linkcode SnapshotStore} in a NATS KV bucket.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, type JetStreamClient, type JetStreamOptions } from "@nats-io/jetstream";
import type { CallOptions } from "../../src/event_log.ts";
import { StorageError } from "../../src/errors.ts";
import type { SaveSnapshotOptions, Snapshot, SnapshotStore } from "../../src/snapshot_store.ts";
import { anyValue, integerAtLeast, type OptionRules, readOptions } from "../../src/_options.ts";
import {
  assertId,
  assertPositiveInteger,
  assertTypeName,
  throwIfAborted,
} from "../../src/_validate.ts";
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
import { callSignal } from "../../src/_call_options.ts";
import { readSaveOptions } from "../../src/_persist_options.ts";
import { MAX_VERSION } from "../../src/event_metadata.ts";
import { closeOwned } from "./_close_owned.ts";

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
export interface NatsSnapshotStoreSetupOptions extends BucketSetupOptions {}

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

const STORE_OPTION_RULES: OptionRules<NatsSnapshotStoreOptions> = {
  bucket: bucketOption("eventsourced-snapshots"),
  timeout: integerAtLeast(1, 5_000),
  jetStream: {
    ...anyValue(undefined),
    valid: (value) => typeof value === "object" && value !== null,
    expected: "an object of JetStream options",
  },
};

// The room a KV write's headers take (the expected-revision header of a compare-and-set).
const KV_HEADER_BYTES = 64;

// Value, format 1 (version 1, and every value before versions): the byte 1, the seqNo as an
// unsigned 64-bit big-endian integer, then the state. Format 2 (other versions): the byte 2,
// the seqNo as in format 1, the version as an unsigned 32-bit big-endian integer, then the
// state. A version-1 snapshot keeps format 1, so releases before versions still read it.
const FORMAT_1 = 1;
const FORMAT_2 = 2;
const HEADER_LENGTH_1 = 9;
const HEADER_LENGTH_2 = 13;
const MAX_ATTEMPTS = 20;

function encodeValue(seqNo: number, version: number, bytes: Uint8Array): Uint8Array {
  const headerLength = version === 1 ? HEADER_LENGTH_1 : HEADER_LENGTH_2;
  const value = new Uint8Array(headerLength + bytes.length);
  const view = new DataView(value.buffer);
  value[0] = version === 1 ? FORMAT_1 : FORMAT_2;
  view.setBigUint64(1, BigInt(seqNo));
  if (version !== 1) view.setUint32(HEADER_LENGTH_1, version);
  value.set(bytes, headerLength);
  return value;
}

function decodeValue(key: string, value: Uint8Array): Snapshot {
  const format = value[0];
  const headerLength = format === FORMAT_1
    ? HEADER_LENGTH_1
    : format === FORMAT_2
    ? HEADER_LENGTH_2
    : Infinity;
  if (value.length < headerLength) {
    throw new StorageError(`Snapshot "${key}" is not in the format of eventsourced`, {
      reason: "corrupt-data",
    });
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const seqNo = Number(view.getBigUint64(1));
  const version = format === FORMAT_1 ? 1 : view.getUint32(HEADER_LENGTH_1);
  if (version < 1 || version > MAX_VERSION) {
    throw new StorageError(
      `Snapshot "${key}" has version ${version}, not one from 1 to ${MAX_VERSION}`,
      {
        reason: "corrupt-data",
      },
    );
  }
  return { seqNo, bytes: value.slice(headerLength), version };
}

/**
 * Snapshots in a NATS KV bucket, the latest per type name and id under the key
 * `<typeName>.<encodeToken(id)>`. A save reads the stored snapshot and writes with
 * compare-and-set on its revision, so an older snapshot never replaces a newer one, also
 * with several writers. Run {@linkcode NatsSnapshotStore.setup} once to create the bucket.
 * The value holds the seqNo and the state's version beside the state; values saved before
 * versions load as version 1.
 *
 * A snapshot whose value does not fit the server's `max_payload` (1 MB by default) is refused
 * before anything is sent (`StorageError` reason `"too-large"`); other failures are
 * `StorageError`s too (a missing bucket is `"schema-missing"`).
 *
 * @example Save and load over WebSocket
 * ```ts ignore
 * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
 *
 * const store = await NatsSnapshotStore.connect({ servers: "ws://127.0.0.1:8080" });
 * await store.setup();
 * await store.save("counter", "a", 10, new Uint8Array([42]), { version: 2 });
 * const snapshot = await store.load("counter", "a");
 * console.log(snapshot?.seqNo, snapshot?.version); // 10 2
 * await store.close();
 * ```
 */
export class NatsSnapshotStore implements SnapshotStore {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  readonly #kv: BucketHandle;
  #owned = false;

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
    if (typeof nc?.request !== "function") {
      throw new TypeError("Invalid nc: expected a NATS connection");
    }
    const read = readOptions("NatsSnapshotStore", options, STORE_OPTION_RULES);
    this.#nc = nc;
    this.#bucket = read.bucket!;
    this.#js = jetstream(nc, { ...read.jetStream, timeout: read.timeout! });
    this.#kv = new BucketHandle(this.#js, this.#bucket);
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
    const read = readConnectOptions("NatsSnapshotStore.connect", options, STORE_OPTION_RULES);
    const nc = await openConnection(read);
    try {
      const { bucket, timeout, jetStream } = read;
      const store = new NatsSnapshotStore(nc, {
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
   * import { NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
   *
   * const store = await NatsSnapshotStore.connect({ servers: "ws://127.0.0.1:8080" });
   * await store.setup({ replicas: 1 });
   * ```
   */
  async setup(options: NatsSnapshotStoreSetupOptions = {}): Promise<void> {
    const read = readOptions("NatsSnapshotStore.setup", options, BUCKET_SETUP_RULES);
    await createBucket(this.#js, this.#bucket, read as Required<BucketSetupOptions>);
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
    if (this.#owned) await closeOwned(this.#nc);
  }

  /** {@inheritDoc SnapshotStore.save} */
  async save(
    typeName: string,
    id: string,
    seqNo: number,
    bytes: Uint8Array,
    options?: SaveSnapshotOptions,
  ): Promise<void> {
    const { signal, version } = readSaveOptions("save", options);
    assertTypeName(typeName);
    assertId(id);
    assertPositiveInteger(seqNo, "seqNo");
    if (!(bytes instanceof Uint8Array)) throw new TypeError("Invalid bytes: expected a Uint8Array");
    throwIfAborted(signal);
    const what = `Cannot save the snapshot of "${typeName}/${id}" at seqNo ${seqNo}`;
    const key = `${typeName}.${encodeToken(id)}`;
    const value = encodeValue(seqNo, version, bytes);
    const maxPayload = this.#nc.info?.max_payload;
    if (maxPayload !== undefined && value.length + KV_HEADER_BYTES > maxPayload) {
      throw new StorageError(
        `${what}: ${bytes.length} bytes do not fit the server's max_payload (${maxPayload}) with the snapshot's headers; nothing was written`,
        { reason: "too-large" },
      );
    }
    const aborted = (error: unknown) => signal?.aborted === true && error === signal.reason;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let kv, entry;
      try {
        kv = await withSignal(this.#kv.open(), signal);
        entry = await withSignal(kv.get(key), signal);
      } catch (error) {
        if (aborted(error)) throw error;
        throw storageError(`${what}, nothing was written`, error, "read");
      }
      const stored = entry !== null && entry.operation === "PUT" && entry.value.length > 0;
      if (stored && decodeValue(key, entry!.value).seqNo >= seqNo) return;
      // The last moment the signal stops the save; once sent, it waits for the answer.
      throwIfAborted(signal);
      try {
        if (stored) await kv.update(key, value, entry!.revision);
        else await kv.create(key, value);
        return;
      } catch (error) {
        // A save whose outcome is unknown does no harm: the next save or load settles it.
        if (apiCode(error) !== WRONG_LAST_SEQUENCE) throw storageError(what, error, "write");
        // Another save got there first: look again.
      }
    }
    throw new StorageError(`${what}: ${MAX_ATTEMPTS} competing saves in a row`, {
      reason: "failed",
    });
  }

  /**
   * {@inheritDoc SnapshotStore.delete} A purge of the key: every stored value goes, and a marker
   * without data stays, which `load` reads as no snapshot.
   */
  async delete(typeName: string, id: string, options?: CallOptions): Promise<void> {
    const signal = callSignal("delete", options);
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(signal);
    const key = `${typeName}.${encodeToken(id)}`;
    const what = `Cannot delete the snapshot of "${typeName}/${id}"`;
    let kv;
    try {
      kv = await withSignal(this.#kv.open(), signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(`${what}, nothing was deleted`, error, "read");
    }
    throwIfAborted(signal);
    try {
      await kv.purge(key);
    } catch (error) {
      throw storageError(what, error, "write");
    }
  }

  /** {@inheritDoc SnapshotStore.load} */
  async load(typeName: string, id: string, options?: CallOptions): Promise<Snapshot | null> {
    const signal = callSignal("load", options);
    assertTypeName(typeName);
    assertId(id);
    throwIfAborted(signal);
    const key = `${typeName}.${encodeToken(id)}`;
    try {
      const kv = await withSignal(this.#kv.open(), signal);
      const entry = await withSignal(kv.get(key), signal);
      if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return null;
      return decodeValue(key, entry.value);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(`Cannot load the snapshot of "${typeName}/${id}"`, error, "read");
    }
  }
}
