/**
 * {@linkcode NatsOffsetStore}: projection offsets in a NATS KV bucket.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import type {
  AcquireOptions,
  OffsetCallOptions,
  OffsetChange,
  OffsetLease,
  OffsetStore,
} from "../../projection/offset_store.ts";
import { ProjectionError } from "../../projection/errors.ts";
import {
  assertProjectionName,
  type NameLocks,
  nameLocksFor,
} from "../../projection/_name_locks.ts";
import { StorageError } from "../../src/errors.ts";
import {
  booleanOption,
  integerAtLeast,
  type OptionRules,
  readOptions,
  signalOption,
} from "../../src/_options.ts";
import { withSignal } from "./_jetstream.ts";
import {
  BUCKET_SETUP_RULES,
  BucketHandle,
  bucketOption,
  type BucketSetupOptions,
  createBucket,
} from "./_kv_bucket.ts";
import { apiCode, storageError, WRONG_LAST_SEQUENCE } from "./_storage_errors.ts";
import { callSignal } from "../../src/_call_options.ts";
import {
  assertTypeChanges,
  assertTypeNames,
  encodeTypeOffsets,
  readTypeOffsets,
  type StoredTypeOffsets,
  typeOffsetsKey,
} from "./_type_offsets.ts";

/**
 * Options of a {@linkcode NatsOffsetStore}.
 *
 * @example One bucket per application
 * ```ts
 * import type { NatsConnection } from "@nats-io/nats-core";
 * import { NatsOffsetStore, type NatsOffsetStoreOptions } from "@eventsourced/eventsourced/nats";
 *
 * const options: NatsOffsetStoreOptions = { bucket: "billing_projection_offsets" };
 * function billingOffsets(nc: NatsConnection): NatsOffsetStore {
 *   return new NatsOffsetStore(nc, options);
 * }
 * ```
 */
export interface NatsOffsetStoreOptions {
  /** The KV bucket of the offsets; default `"eventsourced_projection_offsets"`. */
  bucket?: string | undefined;
  /** Milliseconds each request may take before it fails; default 5 000. */
  timeout?: number | undefined;
}

/**
 * Options of {@linkcode NatsOffsetStore.setup}.
 *
 * @example A replicated bucket on a cluster
 * ```ts
 * import type { NatsConnection } from "@nats-io/nats-core";
 * import { NatsOffsetStore, type NatsOffsetStoreSetupOptions } from "@eventsourced/eventsourced/nats";
 *
 * const setupOptions: NatsOffsetStoreSetupOptions = { replicas: 3, storage: "file" };
 * async function setUpOffsets(nc: NatsConnection): Promise<NatsOffsetStore> {
 *   const offsetStore = new NatsOffsetStore(nc);
 *   await offsetStore.setup(setupOptions);
 *   return offsetStore;
 * }
 * ```
 */
export interface NatsOffsetStoreSetupOptions extends BucketSetupOptions {}

const STORE_OPTION_RULES: OptionRules<NatsOffsetStoreOptions> = {
  bucket: bucketOption("eventsourced_projection_offsets"),
  timeout: integerAtLeast(1, 5_000),
};
const ACQUIRE_OPTION_RULES: OptionRules<AcquireOptions> = {
  wait: booleanOption(false),
  signal: signalOption(),
};

/**
 * Projection offsets in a NATS KV bucket, one key per projection name, written after the
 * handler's work: **at-least-once** — a failure between the handler's writes and the offset
 * (a crash, a lost connection) hands those events to the handler again, so handlers must be
 * idempotent. The offset moves by compare-and-set on the key's revision, so a second runner
 * of the same name in another process is detected at its next commit and stops with reason
 * `"offset-conflict"`; within a process, names are exclusive among stores over the same
 * connection and bucket.
 *
 * A projection over several types keeps every type's offset of its name in one value (key
 * `types.<name>`, a JSON object of type names to offsets), so the offsets of all types move
 * together by one compare-and-set; delivery stays at-least-once, as the read model is written
 * outside any transaction with the offsets. Both kinds of projection take the same name.
 *
 * The store uses the caller's connection and never closes it. Call
 * {@linkcode NatsOffsetStore.setup} once to create the bucket. Failures of the server are
 * `StorageError`s (a missing bucket is `"schema-missing"`).
 *
 * @example Offsets next to a NATS event log
 * ```ts ignore
 * import { wsconnect } from "@nats-io/nats-core";
 * import { jsonBinarize } from "@eventsourced/eventsourced";
 * import { NatsEventLog, NatsOffsetStore } from "@eventsourced/eventsourced/nats";
 * import { Projection } from "@eventsourced/eventsourced/projection";
 *
 * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
 * const offsetStore = new NatsOffsetStore(nc);
 * await offsetStore.setup();
 * const projection = new Projection("mailer", {
 *   typeName: "account",
 *   eventLog: new NatsEventLog(nc),
 *   binarize: jsonBinarize<{ opened?: string }, unknown>(),
 *   offsetStore,
 *   handleEvent: async ({ id, event }) => {
 *     if (event.opened) await fetch(`https://mail.example/welcome/${id}`, { method: "POST" });
 *   },
 * });
 * await projection.run();
 * ```
 */
export class NatsOffsetStore implements OffsetStore<undefined> {
  readonly #bucket: string;
  readonly #locks: NameLocks;
  readonly #js: ReturnType<typeof jetstream>;
  readonly #kv: BucketHandle;

  /**
   * Uses `nc` (a connection the caller owns). Throws a `TypeError` for a bad bucket name.
   *
   * @example A store on an existing connection
   * ```ts ignore
   * import { NatsOffsetStore } from "@eventsourced/eventsourced/nats";
   * import { wsconnect } from "@nats-io/nats-core";
   *
   * const nc = await wsconnect({ servers: "ws://127.0.0.1:8080" });
   * const offsetStore = new NatsOffsetStore(nc, { bucket: "billing_offsets" });
   * ```
   */
  constructor(nc: NatsConnection, options: NatsOffsetStoreOptions = {}) {
    if (typeof nc?.request !== "function") {
      throw new TypeError("Invalid nc: expected a NATS connection");
    }
    const read = readOptions("NatsOffsetStore", options, STORE_OPTION_RULES);
    this.#bucket = read.bucket!;
    this.#js = jetstream(nc, { timeout: read.timeout! });
    this.#kv = new BucketHandle(this.#js, this.#bucket);
    this.#locks = nameLocksFor(nc, `kv:${this.#bucket}`);
  }

  /**
   * Creates the bucket when missing (keeping one value per key, no expiry); an existing one
   * stays as it is.
   *
   * @example Create the bucket
   * ```ts ignore
   * import { NatsOffsetStore } from "@eventsourced/eventsourced/nats";
   * import { wsconnect } from "@nats-io/nats-core";
   *
   * const offsetStore = new NatsOffsetStore(await wsconnect({ servers: "ws://127.0.0.1:8080" }));
   * await offsetStore.setup({ replicas: 1 });
   * ```
   */
  async setup(options: NatsOffsetStoreSetupOptions = {}): Promise<void> {
    const read = readOptions("NatsOffsetStore.setup", options, BUCKET_SETUP_RULES);
    await createBucket(this.#js, this.#bucket, read as Required<BucketSetupOptions>);
  }

  /** {@inheritDoc OffsetStore.load} */
  async load(name: string, options: OffsetCallOptions = {}): Promise<number> {
    const signal = callSignal("NatsOffsetStore.load", options);
    assertProjectionName(name);
    if (signal?.aborted) throw signal.reason;
    return (await withSignal(this.#read(name), signal)).offset;
  }

  /** {@inheritDoc OffsetStore.loadTypes} */
  async loadTypes(
    name: string,
    typeNames: readonly string[],
    options: OffsetCallOptions = {},
  ): Promise<ReadonlyMap<string, number>> {
    const signal = callSignal("NatsOffsetStore.loadTypes", options);
    assertProjectionName(name);
    assertTypeNames(typeNames);
    if (signal?.aborted) throw signal.reason;
    const stored = await withSignal(this.#readTypes(name), signal);
    return new Map(typeNames.map((type) => [type, stored.offsets.get(type) ?? 0]));
  }

  /** {@inheritDoc OffsetStore.acquire} */
  async acquire(name: string, options: AcquireOptions = {}): Promise<OffsetLease<undefined>> {
    const read = readOptions("NatsOffsetStore.acquire", options, ACQUIRE_OPTION_RULES);
    assertProjectionName(name);
    const releaseLocal = await this.#locks.acquire(name, read);
    let revision: number;
    try {
      revision = (await this.#read(name)).revision;
    } catch (error) {
      releaseLocal();
      throw error;
    }
    let released = false;
    // The type offsets as this lease last read or wrote them; read on first use.
    let types: StoredTypeOffsets | undefined;
    return {
      name,
      load: async (callOptions: OffsetCallOptions = {}) => {
        const signal = callSignal("OffsetLease.load", callOptions);
        if (signal?.aborted) throw signal.reason;
        const stored = await withSignal(this.#read(name), signal);
        revision = stored.revision;
        return stored.offset;
      },
      commit: async (
        change: OffsetChange,
        work: (tx: undefined) => Promise<void>,
        callOptions?: OffsetCallOptions,
      ) => {
        const signal = callSignal("OffsetLease.commit", callOptions);
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        signal?.throwIfAborted();
        const what = `Cannot store offset ${change.to} of projection "${name}"`;
        const kv = await this.#kv.open().catch((error) => {
          throw storageError(what, error, "read");
        });
        await work(undefined);
        // Stopped while the work ran: the offset stays, the events come again (at least once).
        signal?.throwIfAborted();
        const value = String(change.to);
        try {
          revision = revision === 0
            ? await kv.create(name, value)
            : await kv.update(name, value, revision);
        } catch (error) {
          if (apiCode(error) === WRONG_LAST_SEQUENCE) {
            throw new ProjectionError(
              `${what}: expected the stored offset to be ${change.from}, but another runner has moved it`,
              { projection: name, reason: "offset-conflict", cause: error },
            );
          }
          // At-least-once: an offset whose write is in doubt only hands events over again.
          throw storageError(what, error, "write");
        }
      },
      loadTypes: async (typeNames: readonly string[], callOptions: OffsetCallOptions = {}) => {
        const signal = callSignal("OffsetLease.loadTypes", callOptions);
        assertTypeNames(typeNames);
        if (signal?.aborted) throw signal.reason;
        types = await withSignal(this.#readTypes(name), signal);
        const stored = types.offsets;
        return new Map(typeNames.map((type) => [type, stored.get(type) ?? 0]));
      },
      commitTypes: async (
        changes: ReadonlyMap<string, OffsetChange>,
        work: (tx: undefined) => Promise<void>,
        callOptions?: OffsetCallOptions,
      ) => {
        const signal = callSignal("OffsetLease.commitTypes", callOptions);
        assertTypeChanges(changes);
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        signal?.throwIfAborted();
        const what = `Cannot store the type offsets of projection "${name}"`;
        const kv = await this.#kv.open().catch((error) => {
          throw storageError(what, error, "read");
        });
        types ??= await this.#readTypes(name);
        const next = new Map(types.offsets);
        for (const [type, change] of changes) {
          const stored = types.offsets.get(type) ?? 0;
          if (stored !== change.from) {
            throw new ProjectionError(
              `${what}: expected the offset of type "${type}" to be ${change.from}, found ${stored}`,
              { projection: name, reason: "offset-conflict" },
            );
          }
          next.set(type, change.to);
        }
        await work(undefined);
        // Stopped while the work ran: the offsets stay, the events come again (at least once).
        signal?.throwIfAborted();
        const key = typeOffsetsKey(name);
        const value = encodeTypeOffsets(next);
        const expected = types.revision;
        try {
          const revision = expected === 0
            ? await kv.create(key, value)
            : await kv.update(key, value, expected);
          types = { offsets: next, revision };
        } catch (error) {
          if (apiCode(error) === WRONG_LAST_SEQUENCE) {
            throw new ProjectionError(
              `${what}: another runner has moved them since this one read them`,
              { projection: name, reason: "offset-conflict", cause: error },
            );
          }
          // At-least-once: offsets whose write is in doubt only hand events over again.
          throw storageError(what, error, "write");
        }
      },
      release: () => {
        released = true;
        releaseLocal();
        return Promise.resolve();
      },
    };
  }

  async #readTypes(name: string): Promise<StoredTypeOffsets> {
    const kv = await this.#kv.open().catch((error) => {
      throw storageError(`Cannot read the type offsets of projection "${name}"`, error, "read");
    });
    return await readTypeOffsets(kv, name, this.#bucket);
  }

  async #read(name: string): Promise<{ offset: number; revision: number }> {
    let entry;
    try {
      entry = await (await this.#kv.open()).get(name);
    } catch (error) {
      throw storageError(`Cannot read the offset of projection "${name}"`, error, "read");
    }
    if (entry === null) return { offset: 0, revision: 0 };
    if (entry.operation !== "PUT") return { offset: 0, revision: entry.revision };
    const offset = Number(entry.string());
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new StorageError(
        `Invalid offset ${
          JSON.stringify(entry.string())
        } stored for projection "${name}" in bucket "${this.#bucket}"`,
        { reason: "corrupt-data" },
      );
    }
    return { offset, revision: entry.revision };
  }
}
