/**
 * {@linkcode NatsOffsetStore}: projection offsets in a NATS KV bucket.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type {
  AcquireOptions,
  OffsetCallOptions,
  OffsetChange,
  OffsetLease,
  OffsetStore,
} from "./offset_store.ts";
import { ProjectionError } from "./errors.ts";
import { assertProjectionName, type NameLocks, nameLocksFor } from "./_name_locks.ts";

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
export interface NatsOffsetStoreSetupOptions {
  /** Replicas of the bucket's stream; default 1. */
  replicas?: number | undefined;
  /** `"file"` (default) or `"memory"`. */
  storage?: "file" | "memory" | undefined;
}

const BUCKET = /^[A-Za-z0-9_-]{1,64}$/;
// JetStream's error code for a failed expected-last-subject-sequence check.
const WRONG_LAST_SEQUENCE = 10071;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Projection offsets in a NATS KV bucket, one key per projection name, written after the
 * handler's work: **at-least-once** — a failure between the handler's writes and the offset
 * (a crash, a lost connection) hands those events to the handler again, so handlers must be
 * idempotent. The offset moves by compare-and-set on the key's revision, so a second runner
 * of the same name in another process is detected at its next commit and stops with reason
 * `"offset-conflict"`; within a process, names are exclusive among stores over the same
 * connection and bucket.
 *
 * The store uses the caller's connection and never closes it. Call
 * {@linkcode NatsOffsetStore.setup} once to create the bucket.
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
  readonly #nc: NatsConnection;
  readonly #bucket: string;
  readonly #locks: NameLocks;
  #kv: Promise<KV> | undefined;

  /** Uses `nc` (a connection the caller owns). Throws a `TypeError` for a bad bucket name. */
  constructor(nc: NatsConnection, options: NatsOffsetStoreOptions = {}) {
    if (typeof nc?.request !== "function") {
      throw new TypeError("Invalid nc: expected a NATS connection");
    }
    const bucket = options.bucket ?? "eventsourced_projection_offsets";
    if (typeof bucket !== "string" || !BUCKET.test(bucket)) {
      throw new TypeError(
        `Invalid bucket ${
          JSON.stringify(bucket)
        }: expected 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"`,
      );
    }
    this.#nc = nc;
    this.#bucket = bucket;
    this.#locks = nameLocksFor(nc, `kv:${bucket}`);
  }

  /** Creates the bucket when missing (keeping one value per key). */
  async setup(options: NatsOffsetStoreSetupOptions = {}): Promise<void> {
    const kvOptions = {
      history: 1,
      replicas: options.replicas ?? 1,
      storage: options.storage === "memory" ? "memory" : "file",
    } as Partial<KvOptions>;
    this.#kv = new Kvm(this.#nc).create(this.#bucket, kvOptions);
    this.#kv.catch(() => (this.#kv = undefined));
    await this.#kv;
  }

  /** {@inheritDoc OffsetStore.load} */
  async load(name: string, options: OffsetCallOptions = {}): Promise<number> {
    assertProjectionName(name);
    if (options.signal?.aborted) throw options.signal.reason;
    return (await this.#read(name)).offset;
  }

  /** {@inheritDoc OffsetStore.acquire} */
  async acquire(name: string, options: AcquireOptions = {}): Promise<OffsetLease<undefined>> {
    assertProjectionName(name);
    const releaseLocal = await this.#locks.acquire(name, options);
    let revision: number;
    try {
      revision = (await this.#read(name)).revision;
    } catch (error) {
      releaseLocal();
      throw error;
    }
    let released = false;
    return {
      name,
      load: async (callOptions: OffsetCallOptions = {}) => {
        if (callOptions.signal?.aborted) throw callOptions.signal.reason;
        const stored = await this.#read(name);
        revision = stored.revision;
        return stored.offset;
      },
      commit: async (change: OffsetChange, work: (tx: undefined) => Promise<void>) => {
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        const kv = await this.#open();
        await work(undefined);
        const value = String(change.to);
        try {
          revision = revision === 0
            ? await kv.create(name, value)
            : await kv.update(name, value, revision);
        } catch (error) {
          const code = (error as { code?: unknown; api_error?: { err_code?: unknown } })
            ?.api_error?.err_code ?? (error as { code?: unknown })?.code;
          if (code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(messageOf(error))) {
            throw new ProjectionError(
              `Cannot store offset ${change.to} of projection "${name}": expected the stored ` +
                `offset to be ${change.from}, but another runner has moved it`,
              { projection: name, reason: "offset-conflict", cause: error },
            );
          }
          throw error;
        }
      },
      release: () => {
        released = true;
        releaseLocal();
        return Promise.resolve();
      },
    };
  }

  async #read(name: string): Promise<{ offset: number; revision: number }> {
    const kv = await this.#open();
    const entry = await kv.get(name);
    if (entry === null) return { offset: 0, revision: 0 };
    if (entry.operation !== "PUT") return { offset: 0, revision: entry.revision };
    const offset = Number(entry.string());
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new Error(
        `Invalid offset ${
          JSON.stringify(entry.string())
        } stored for projection "${name}" in bucket "${this.#bucket}"`,
      );
    }
    return { offset, revision: entry.revision };
  }

  #open(): Promise<KV> {
    if (this.#kv === undefined) {
      const kv = new Kvm(this.#nc).open(this.#bucket);
      this.#kv = kv;
      kv.catch(() => (this.#kv = undefined));
    }
    return this.#kv;
  }
}
