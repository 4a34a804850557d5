/**
 * The administrative side of a store: what the command-line tool and `copyStore` need beyond
 * an {@linkcode EventLog} and a {@linkcode SnapshotStore}: the schema, the entity types and ids
 * it holds, its snapshots and projection offsets, and writing events exactly as another store
 * holds them.
 *
 * @module
 */

import type { CallOptions, EventLog, PersistedEvent } from "../src/event_log.ts";
import type { Snapshot, SnapshotStore } from "../src/snapshot_store.ts";

/**
 * One entity type in a store, as {@linkcode StoreAdmin.entityTypes} lists it.
 *
 * @example Events per entity of each type
 * ```ts ignore
 * for (const type of await admin.entityTypes()) {
 *   console.log(type.typeName, type.events / type.entities);
 * }
 * ```
 */
export interface EntityTypeSummary {
  /** The type name. */
  readonly typeName: string;
  /** How many entities of the type have at least one event. */
  readonly entities: number;
  /** How many events of the type the store holds. */
  readonly events: number;
  /** The position of the type's last event; `0` when it has none. */
  readonly headPosition: number;
}

/**
 * A snapshot with the entity it belongs to, as {@linkcode StoreAdmin.snapshots} reads it.
 *
 * @example Every snapshot of a type
 * ```ts ignore
 * for await (const snapshot of admin.snapshots("account")) {
 *   console.log(snapshot.id, snapshot.seqNo, snapshot.bytes.length);
 * }
 * ```
 */
export interface StoredSnapshot extends Snapshot {
  /** The entity's type name. */
  readonly typeName: string;
  /** The entity's id. */
  readonly id: string;
}

/**
 * A stored offset of a projection, as {@linkcode StoreAdmin.projections} lists it: one row
 * for a projection over one type, one row per type (with its `typeName`) for a projection over
 * several types.
 *
 * @example How far each projection got
 * ```ts ignore
 * for (const projection of await admin.projections()) {
 *   const what = projection.typeName === undefined
 *     ? projection.name
 *     : `${projection.name} (${projection.typeName})`;
 *   console.log(what, projection.offset, new Date(projection.updatedAt ?? 0));
 * }
 * ```
 */
export interface ProjectionOffset {
  /** The projection's name. */
  readonly name: string;
  /**
   * Of a projection over several types: the type this offset is of. Absent for a projection
   * over one type (whose offset store does not record its type).
   */
  readonly typeName?: string;
  /** The position of the last event of the type it processed; `0` when none. */
  readonly offset: number;
  /** When the offset last moved, in milliseconds since the Unix epoch; `null` when unknown. */
  readonly updatedAt: number | null;
}

/**
 * Options of {@linkcode StoreAdmin.resetProjection}.
 *
 * @example Replay only the transfers of a projection over accounts and transfers
 * ```ts
 * import { MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { memoryStoreAdmin, type ResetProjectionOptions } from "@eventsourced/eventsourced/admin";
 * import { MemoryOffsetStore } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const offsetStore = new MemoryOffsetStore();
 * const lease = await offsetStore.acquire("activity");
 * const moves = new Map([["account", { from: 0, to: 4 }], ["transfer", { from: 0, to: 9 }]]);
 * await lease.commitTypes!(moves, async () => {});
 * await lease.release();
 *
 * const admin = memoryStoreAdmin({
 *   eventLog: new MemoryEventLog(),
 *   snapshotStore: new MemorySnapshotStore(),
 *   offsetStore,
 * });
 * const options: ResetProjectionOptions = { typeName: "transfer" };
 * await admin.resetProjection("activity", 0, options);
 * assert.deepEqual(
 *   await offsetStore.loadTypes!("activity", ["account", "transfer"]),
 *   new Map([["account", 4], ["transfer", 0]]),
 * );
 * ```
 */
export interface ResetProjectionOptions extends CallOptions {
  /**
   * Of a projection over several types: set only this type's offset (stored for the name from
   * then on, if it was not). Without it, every offset of the name is set.
   */
  typeName?: string | undefined;
}

/**
 * Where a store's schema stands, as {@linkcode StoreAdmin.schema} reads it.
 *
 * @example Upgrade when behind
 * ```ts ignore
 * const { installed, latest } = await admin.schema();
 * if (installed === null || installed < latest) await admin.setup();
 * ```
 */
export interface SchemaState {
  /** The version set up in the store; `null` when nothing of the library is there yet. */
  readonly installed: number | null;
  /** The version this release of the library sets up. */
  readonly latest: number;
}

/**
 * Options of the reads of a {@linkcode StoreAdmin}.
 *
 * @example Give up a listing after five seconds
 * ```ts ignore
 * const ids = admin.entityIds("account", { signal: AbortSignal.timeout(5_000) });
 * ```
 */
export interface AdminReadOptions {
  /** Ends the read; the stream errors with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * The administrative side of one store (one backend with its names or buckets). Each backend
 * module exports one; the command-line tool opens them by URL.
 *
 * Every call checks its arguments before it reads or writes and fails with a `TypeError` or
 * `RangeError` naming what was wrong; storage failures are `StorageError`s as with the event
 * log (`"schema-missing"` when the store was never set up).
 *
 * @example List what a store holds
 * ```ts ignore
 * import type { StoreAdmin } from "@eventsourced/eventsourced/admin";
 *
 * async function show(admin: StoreAdmin): Promise<void> {
 *   for (const type of await admin.entityTypes()) {
 *     console.log(type.typeName, type.entities, type.events, type.headPosition);
 *   }
 * }
 * ```
 */
export interface StoreAdmin {
  /** Which backend this is, for messages and for choosing how to copy. */
  readonly backend: "memory" | "postgres" | "pglite" | "nats";
  /** The store's event log. */
  readonly eventLog: EventLog;
  /** The store's snapshot store. */
  readonly snapshotStore: SnapshotStore;
  /**
   * Whether {@linkcode StoreAdmin.importEvents} stores the positions it is given (`true`:
   * memory, PostgreSQL, PGlite, whose positions are 1, 2, 3 … per type, with gaps only where
   * events were deleted) or assigns its own in the same order (`false`: NATS, where a position
   * comes from the stream sequence and has gaps).
   */
  readonly keepsPositions: boolean;

  /** Where the schema stands (tables, streams, buckets), without changing anything. */
  schema(options?: CallOptions): Promise<SchemaState>;
  /** Creates the schema, or upgrades it to the latest version; safe to run again. */
  setup(options?: CallOptions): Promise<void>;
  /** Every entity type with at least one event, in type name order. */
  entityTypes(options?: CallOptions): Promise<EntityTypeSummary[]>;
  /**
   * The ids of the entities of `typeName` with at least one event, in code point order (the
   * order of their UTF-8 bytes, as PostgreSQL's `collate "C"` sorts), read in pages.
   */
  entityIds(typeName: string, options?: AdminReadOptions): ReadableStream<string>;
  /** The latest snapshot of every entity of `typeName` that has one, in id order. */
  snapshots(typeName: string, options?: AdminReadOptions): ReadableStream<StoredSnapshot>;
  /**
   * Writes `events` exactly as given: seqNo, version, metadata, writtenAt, bytes and (when
   * {@linkcode StoreAdmin.keepsPositions}) position. The events of an entity must continue its
   * seqNos without a gap (an entity the store does not hold may start above seqNo 1: its first
   * events were deleted) and, with kept positions, each type's positions must lie above its
   * head (gaps are the positions of deleted events); otherwise the call rejects
   * (`ConcurrencyError` for a seqNo already taken) having written nothing of the entity
   * concerned. Events are in position order per type.
   */
  importEvents(events: readonly PersistedEvent[], options?: CallOptions): Promise<void>;
  /** Stores `snapshot` as it is, unless one with a higher seqNo is stored. */
  importSnapshot(snapshot: StoredSnapshot, options?: CallOptions): Promise<void>;
  /**
   * Every projection offset the store holds, in name order; the rows of one name with the
   * single-type offset first, then its types in type name order. A single-type offset of `0`
   * beside type offsets is left out: the SQL stores keep one for every name a runner took.
   */
  projections(options?: CallOptions): Promise<ProjectionOffset[]>;
  /**
   * Sets the offset of projection `name` to `offset` (`0`: from the start): with
   * `options.typeName`, that type's offset of a projection over several types; without, every
   * offset {@linkcode StoreAdmin.projections} lists for the name, or, for a name it does not
   * list, its single-type offset. Rejects with a `ProjectionError` of reason
   * `"locked"` while a runner holds the name, having changed nothing.
   */
  resetProjection(
    name: string,
    offset: number,
    options?: ResetProjectionOptions,
  ): Promise<void>;
  /** Closes what this admin opened itself; the caller's connections stay open. */
  close(): Promise<void>;
}
