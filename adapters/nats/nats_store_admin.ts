/**
 * {@linkcode NatsStoreAdmin}: the store admin of the NATS backend.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { CallOptions, EventLog, PersistedEvent } from "../../src/event_log.ts";
import type { SnapshotStore } from "../../src/snapshot_store.ts";
import { StorageError } from "../../src/errors.ts";
import {
  integerAtLeast,
  type OptionRules,
  readOptions,
  type stringOption,
} from "../../src/_options.ts";
import { isProjectionError, ProjectionError } from "../../projection/errors.ts";
import { type NameLocks, nameLocksFor } from "../../projection/_name_locks.ts";
import type {
  AdminReadOptions,
  EntityTypeSummary,
  ProjectionOffset,
  ResetProjectionOptions,
  SchemaState,
  StoreAdmin,
  StoredSnapshot,
} from "../../admin/store_admin.ts";
import { planImport } from "../../admin/_import_events.ts";
import { compareCodePoints } from "../../admin/_order.ts";
import { arrayStream } from "../../admin/_array_stream.ts";
import { importSnapshotInto, readCall, readListing, readReset } from "../../admin/_admin_checks.ts";
import { type NatsConnectOptions, openConnection, readConnectOptions } from "./connect_options.ts";
import { NatsEventLog } from "./nats_event_log.ts";
import { LOG_OPTION_RULES } from "./nats_event_log_options.ts";
import { NatsSnapshotStore } from "./nats_snapshot_store.ts";
import { NatsOffsetStore } from "./nats_offset_store.ts";
import { type NatsLogInternals, natsLogInternals } from "./_log_internals.ts";
import { BucketHandle, bucketOption } from "./_kv_bucket.ts";
import { decodeSeqNoHeaders, toPosition } from "./_message.ts";
import { decodeToken } from "./token.ts";
import { withSignal } from "./_jetstream.ts";
import { apiCode, storageError, STREAM_NOT_FOUND } from "./_storage_errors.ts";
import { lastPerSubject, streamSubjects } from "./_admin_listing.ts";
import { importToStream } from "./_admin_import.ts";
import { listOffsets, resetOffsets } from "./_admin_offsets.ts";
import { closeOwned } from "./_close_owned.ts";

/**
 * Options of a {@linkcode NatsStoreAdmin}: the stream and subjects of the event log, and the
 * buckets of the snapshot and offset stores, each with the default of its store.
 *
 * @example A store with names of its own
 * ```ts
 * import type { NatsStoreAdminOptions } from "@eventsourced/eventsourced/nats";
 *
 * const options: NatsStoreAdminOptions = {
 *   stream: "shop",
 *   subjectPrefix: "shop.events",
 *   snapshotBucket: "shop-snapshots",
 *   offsetBucket: "shop_offsets",
 * };
 * ```
 */
export interface NatsStoreAdminOptions {
  /** The event log's stream; default `"eventsourced"`. */
  stream?: string | undefined;
  /** The event log's subject prefix; default `"eventsourced"`. */
  subjectPrefix?: string | undefined;
  /** The snapshot store's bucket; default `"eventsourced-snapshots"`. */
  snapshotBucket?: string | undefined;
  /** The offset store's bucket; default `"eventsourced_projection_offsets"`. */
  offsetBucket?: string | undefined;
  /** Milliseconds each request may take before it fails; default 5 000. */
  timeout?: number | undefined;
}

const RULES: OptionRules<NatsStoreAdminOptions> = {
  stream: LOG_OPTION_RULES.stream as ReturnType<typeof stringOption<string | undefined>>,
  subjectPrefix: LOG_OPTION_RULES.subjectPrefix as ReturnType<
    typeof stringOption<string | undefined>
  >,
  snapshotBucket: bucketOption("eventsourced-snapshots"),
  offsetBucket: bucketOption("eventsourced_projection_offsets"),
  timeout: integerAtLeast(1, 5_000),
};

/**
 * The administrative side of a NATS store (see `StoreAdmin` in `./admin`): the schema is the
 * stream and the two buckets; entity types and ids come from the stream's subject state (a
 * type's ids are sorted in memory), counts from the last message of each entity; positions
 * are not kept on import (`keepsPositions` is `false`: they come from the stream, in the
 * given order), but seqNos, version, metadata, bytes and writtenAt are. An import publishes
 * one message per run of an entity's consecutive events with persist's concurrency check, one
 * at a time: a conflict stops it there, keeping the messages before (each entity's seqNos
 * stay without a gap), so it is resumed by importing again from each entity's head.
 *
 * @example Look at a store
 * ```ts ignore
 * import { NatsStoreAdmin } from "@eventsourced/eventsourced/nats";
 *
 * const admin = await NatsStoreAdmin.connect({ servers: "ws://127.0.0.1:8080" });
 * console.log(await admin.schema());
 * for (const type of await admin.entityTypes()) console.log(type);
 * await admin.close();
 * ```
 */
export class NatsStoreAdmin implements StoreAdmin {
  /** {@inheritDoc StoreAdmin.backend} */
  readonly backend = "nats" as const;
  /** {@inheritDoc StoreAdmin.keepsPositions} */
  readonly keepsPositions = false;
  /** {@inheritDoc StoreAdmin.eventLog} */
  readonly eventLog: EventLog;
  /** {@inheritDoc StoreAdmin.snapshotStore} */
  readonly snapshotStore: SnapshotStore;
  readonly #nc: NatsConnection;
  readonly #log: NatsLogInternals;
  readonly #offsetStore: NatsOffsetStore;
  readonly #snapshotStore: NatsSnapshotStore;
  readonly #js: JetStreamClient;
  readonly #buckets: { readonly snapshots: string; readonly offsets: string };
  readonly #snapshotBucket: BucketHandle;
  readonly #offsetBucket: BucketHandle;
  readonly #locks: NameLocks;
  #owned = false;

  /**
   * Uses `nc`, which stays the caller's. Throws a `TypeError` for an unknown option, a
   * `RangeError` for a bad value, before any I/O.
   */
  constructor(nc: NatsConnection, options: NatsStoreAdminOptions = {}) {
    if (typeof nc?.request !== "function") {
      throw new TypeError("Invalid nc: expected a NATS connection");
    }
    const read = readOptions("NatsStoreAdmin", options, RULES);
    const timeout = read.timeout!;
    const log = new NatsEventLog(nc, {
      stream: read.stream!,
      subjectPrefix: read.subjectPrefix!,
      timeout,
    });
    this.#nc = nc;
    this.eventLog = log;
    this.#log = natsLogInternals(log)!;
    this.#snapshotStore = new NatsSnapshotStore(nc, { bucket: read.snapshotBucket!, timeout });
    this.snapshotStore = this.#snapshotStore;
    this.#offsetStore = new NatsOffsetStore(nc, { bucket: read.offsetBucket!, timeout });
    this.#buckets = { snapshots: read.snapshotBucket!, offsets: read.offsetBucket! };
    this.#js = jetstream(nc, { timeout });
    this.#snapshotBucket = new BucketHandle(this.#js, this.#buckets.snapshots);
    this.#offsetBucket = new BucketHandle(this.#js, this.#buckets.offsets);
    // The locks that NatsOffsetStore runners over this connection take.
    this.#locks = nameLocksFor(nc, `kv:${this.#buckets.offsets}`);
  }

  /**
   * Opens a WebSocket connection that {@linkcode NatsStoreAdmin.close} closes.
   *
   * @example Connect, set up, close
   * ```ts ignore
   * import { NatsStoreAdmin } from "@eventsourced/eventsourced/nats";
   *
   * const admin = await NatsStoreAdmin.connect({ servers: "ws://127.0.0.1:8080" });
   * await admin.setup();
   * await admin.close();
   * ```
   */
  static async connect(
    options: NatsConnectOptions & NatsStoreAdminOptions,
  ): Promise<NatsStoreAdmin> {
    const read = readConnectOptions("NatsStoreAdmin.connect", options, RULES);
    const own: NatsStoreAdminOptions = {};
    for (const key of Object.keys(RULES) as (keyof NatsStoreAdminOptions)[]) {
      if (read[key] !== undefined) (own as Record<string, unknown>)[key] = read[key];
    }
    const nc = await openConnection(read);
    try {
      const admin = new NatsStoreAdmin(nc, own);
      admin.#owned = true;
      return admin;
    } catch (error) {
      await closeOwned(nc);
      throw error;
    }
  }

  /** {@inheritDoc StoreAdmin.schema} */
  async schema(options?: CallOptions): Promise<SchemaState> {
    const signal = readCall("schema", options);
    const streams = [
      this.#log.stream,
      `KV_${this.#buckets.snapshots}`,
      `KV_${this.#buckets.offsets}`,
    ];
    try {
      const jsm = await withSignal(this.#log.streamAdmin.manager(), signal);
      for (const stream of streams) {
        try {
          await withSignal(jsm.streams.info(stream), signal);
        } catch (error) {
          if (apiCode(error) === STREAM_NOT_FOUND) return { installed: null, latest: 1 };
          throw error;
        }
      }
      return { installed: 1, latest: 1 };
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError("Cannot read the schema of the NATS store", error, "read");
    }
  }

  /** {@inheritDoc StoreAdmin.setup} */
  async setup(options?: CallOptions): Promise<void> {
    readCall("setup", options);
    await (this.eventLog as NatsEventLog).setup();
    await this.#snapshotStore.setup();
    await this.#offsetStore.setup();
  }

  /** {@inheritDoc StoreAdmin.entityTypes} */
  async entityTypes(options?: CallOptions): Promise<EntityTypeSummary[]> {
    const signal = readCall("entityTypes", options);
    const what = "Cannot list the entity types";
    const { prefix } = this.#log;
    const subjects = await streamSubjects(this.#log, `${prefix}.>`, what, signal);
    const entities = new Map<string, number>();
    for (const subject of subjects) {
      const rest = subject.slice(prefix.length + 1);
      const dot = rest.indexOf(".");
      if (dot < 1 || rest.indexOf(".", dot + 1) !== -1) continue;
      const typeName = rest.slice(0, dot);
      entities.set(typeName, (entities.get(typeName) ?? 0) + 1);
    }
    const summaries: EntityTypeSummary[] = [];
    for (const typeName of [...entities.keys()].sort(compareCodePoints)) {
      let events = 0;
      let headPosition = 0;
      const idStart = prefix.length + typeName.length + 2;
      try {
        await lastPerSubject(
          this.#js,
          this.#log.stream,
          `${prefix}.${typeName}.*`,
          entities.get(typeName)!,
          (msg) => {
            const id = msg.subject.slice(idStart);
            const { firstSeqNo, count } = decodeSeqNoHeaders(typeName, id, msg);
            events += firstSeqNo + count - 1;
            headPosition = Math.max(headPosition, toPosition(msg.seq, count - 1));
          },
          signal,
        );
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        throw storageError(`${what}: reading the entities of "${typeName}" failed`, error, "read");
      }
      summaries.push({ typeName, entities: entities.get(typeName)!, events, headPosition });
    }
    return summaries;
  }

  /** {@inheritDoc StoreAdmin.entityIds} */
  entityIds(typeName: string, options?: AdminReadOptions): ReadableStream<string> {
    const signal = readListing("entityIds", typeName, options);
    const prefix = `${this.#log.prefix}.${typeName}.`;
    const what = `Cannot list the ids of type "${typeName}"`;
    return this.#sortedStream(
      async () => {
        const subjects = await streamSubjects(this.#log, `${prefix}*`, what, signal);
        return subjects.map((subject) => decodeId(subject.slice(prefix.length), what));
      },
      signal,
      (id) => id,
    );
  }

  /** {@inheritDoc StoreAdmin.snapshots} */
  snapshots(typeName: string, options?: AdminReadOptions): ReadableStream<StoredSnapshot> {
    const signal = readListing("snapshots", typeName, options);
    const what = `Cannot list the snapshots of type "${typeName}"`;
    return this.#sortedStream(
      async () => {
        let keys: string[];
        try {
          const kv = await withSignal(this.#snapshotBucket.open(), signal);
          keys = await withSignal(collectKeys(kv, `${typeName}.>`), signal);
        } catch (error) {
          if (signal?.aborted && error === signal.reason) throw error;
          throw storageError(what, error, "read");
        }
        return keys.map((key) => decodeId(key.slice(typeName.length + 1), what));
      },
      signal,
      async (id) => {
        const snapshot = await this.snapshotStore.load(typeName, id, { signal });
        return snapshot === null ? undefined : { typeName, id, ...snapshot };
      },
    );
  }

  // Streams the items of the ids `list` finds, in code point order; `item` may drop one.
  #sortedStream<Item>(
    list: () => Promise<string[]>,
    signal: AbortSignal | undefined,
    item: (id: string) => Item | undefined | Promise<Item | undefined>,
  ): ReadableStream<Item> {
    let ids: ReadableStreamDefaultReader<string> | undefined;
    return new ReadableStream<Item>({
      async pull(controller) {
        try {
          if (ids === undefined) {
            ids = arrayStream((await list()).sort(compareCodePoints), signal).getReader();
          }
          for (;;) {
            const next = await ids.read();
            if (next.done) return controller.close();
            const value = await item(next.value);
            if (value !== undefined) return controller.enqueue(value);
          }
        } catch (error) {
          controller.error(signal?.aborted ? signal.reason : error);
        }
      },
    }, { highWaterMark: 0 });
  }

  /** {@inheritDoc StoreAdmin.importEvents} */
  async importEvents(events: readonly PersistedEvent[], options?: CallOptions): Promise<void> {
    const signal = readCall("importEvents", options);
    const plan = planImport(events, this.keepsPositions);
    if (plan.events.length === 0) return;
    await importToStream(this.#log, plan, signal);
  }

  /** {@inheritDoc StoreAdmin.importSnapshot} */
  importSnapshot(snapshot: StoredSnapshot, options?: CallOptions): Promise<void> {
    return importSnapshotInto(this.snapshotStore, snapshot, options);
  }

  /** {@inheritDoc StoreAdmin.projections} */
  async projections(options?: CallOptions): Promise<ProjectionOffset[]> {
    const signal = readCall("projections", options);
    const what = "Cannot list the projections";
    try {
      const kv = await withSignal(this.#offsetBucket.open(), signal);
      return await listOffsets(kv, this.#buckets.offsets, what, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(what, error, "read");
    }
  }

  /** {@inheritDoc StoreAdmin.resetProjection} */
  async resetProjection(
    name: string,
    offset: number,
    options?: ResetProjectionOptions,
  ): Promise<void> {
    const { signal, typeName } = readReset(name, offset, options);
    let release: () => void;
    try {
      release = await this.#locks.acquire(name, { wait: false, signal });
    } catch (error) {
      if (!isProjectionError(error)) throw error;
      throw new ProjectionError(
        `Cannot reset projection "${name}": a runner holds it; stop it first`,
        { projection: name, reason: "locked", cause: error },
      );
    }
    try {
      const kv = await withSignal(this.#offsetBucket.open(), signal);
      await withSignal(resetOffsets(kv, this.#buckets.offsets, name, offset, typeName), signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw storageError(`Cannot reset projection "${name}"`, error, "write");
    } finally {
      release();
    }
  }

  /** Closes the connection if {@linkcode NatsStoreAdmin.connect} opened it. */
  async close(): Promise<void> {
    if (!this.#owned) return;
    this.#owned = false;
    await closeOwned(this.#nc);
  }
}

async function collectKeys(kv: KV, filter: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of await kv.keys(filter)) keys.push(key);
  return keys;
}

function decodeId(token: string, what: string): string {
  try {
    return decodeToken(token);
  } catch (cause) {
    throw new StorageError(`${what}: the subject token "${token}" is not an encoded id`, {
      reason: "corrupt-data",
      cause,
    });
  }
}
