/**
 * The {@linkcode StoreAdmin} of the memory stores.
 *
 * @module
 */

import type { CallOptions, EventLog, PersistedEvent } from "../src/event_log.ts";
import type { SnapshotStore } from "../src/snapshot_store.ts";
import { MemoryEventLog } from "../src/memory_event_log.ts";
import { MemorySnapshotStore } from "../src/memory_snapshot_store.ts";
import { MemoryOffsetStore } from "../projection/memory_offset_store.ts";
import { isProjectionError, ProjectionError } from "../projection/errors.ts";
import { StorageError } from "../src/errors.ts";
import { copyBytes } from "../src/_event_stream.ts";
import {
  type MemoryLogContents,
  memoryLogContents,
  memorySnapshots,
} from "../src/_memory_internals.ts";
import { memoryOffsetContents } from "../projection/_memory_offset_internals.ts";
import { readOptions } from "../src/_options.ts";
import { quote } from "../src/_validate.ts";
import type {
  AdminReadOptions,
  EntityTypeSummary,
  ProjectionOffset,
  ResetProjectionOptions,
  SchemaState,
  StoreAdmin,
  StoredSnapshot,
} from "./store_admin.ts";
import { assertContinues, assertContinuesHead, planImport } from "./_import_events.ts";
import { compareCodePoints } from "./_order.ts";
import { arrayStream } from "./_array_stream.ts";
import { importSnapshotInto, readCall, readListing, readReset } from "./_admin_checks.ts";

/**
 * The stores a {@linkcode memoryStoreAdmin} looks after.
 *
 * @example The three memory stores of a test
 * ```ts
 * import { MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore } from "@eventsourced/eventsourced/projection";
 * import type { MemoryStoreAdminOptions } from "@eventsourced/eventsourced/admin";
 *
 * const options: MemoryStoreAdminOptions = {
 *   eventLog: new MemoryEventLog(),
 *   snapshotStore: new MemorySnapshotStore(),
 *   offsetStore: new MemoryOffsetStore(),
 * };
 * ```
 */
export interface MemoryStoreAdminOptions {
  /** The event log. */
  eventLog: MemoryEventLog;
  /** The snapshot store. */
  snapshotStore: MemorySnapshotStore;
  /** The projection offsets; without it `projections()` is empty and resets are refused. */
  offsetStore?: MemoryOffsetStore | undefined;
}

function instanceRule<Value>(Class: abstract new (...args: never[]) => Value, optional: boolean) {
  return {
    default: undefined as Value,
    valid: (value: unknown) => value instanceof Class || (optional && value === undefined),
    expected: `a ${Class.name}`,
  };
}

/**
 * The administrative side of the memory stores: positions are kept on import (a copy into
 * memory reads back with the source's positions), and the schema is always at version 1.
 *
 * @example Import events with their positions and list them
 * ```ts
 * import { MemoryEventLog, MemorySnapshotStore } from "@eventsourced/eventsourced";
 * import { memoryStoreAdmin } from "@eventsourced/eventsourced/admin";
 * import assert from "node:assert/strict";
 *
 * const admin = memoryStoreAdmin({
 *   eventLog: new MemoryEventLog(),
 *   snapshotStore: new MemorySnapshotStore(),
 * });
 * await admin.importEvents([
 *   { typeName: "counter", id: "a", seqNo: 1, position: 1, bytes: new Uint8Array([1]), version: 1, writtenAt: 0, metadata: {} },
 * ]);
 * assert.deepEqual(await admin.entityTypes(), [
 *   { typeName: "counter", entities: 1, events: 1, headPosition: 1 },
 * ]);
 * assert.equal(await admin.eventLog.persist("counter", "a", 1, [new Uint8Array([2])]), 2);
 * ```
 */
export function memoryStoreAdmin(options: MemoryStoreAdminOptions): StoreAdmin {
  const { eventLog, snapshotStore, offsetStore } = readOptions<MemoryStoreAdminOptions>(
    "memoryStoreAdmin",
    options,
    {
      eventLog: instanceRule(MemoryEventLog, false),
      snapshotStore: instanceRule(MemorySnapshotStore, false),
      offsetStore: instanceRule(MemoryOffsetStore, true),
    },
  );
  for (const [key, value] of [["eventLog", eventLog], ["snapshotStore", snapshotStore]] as const) {
    if (value === undefined) {
      throw new TypeError(
        `Invalid memoryStoreAdmin option ${key} undefined: expected a ${
          key === "eventLog" ? "MemoryEventLog" : "MemorySnapshotStore"
        }`,
      );
    }
  }
  return new MemoryStoreAdmin(eventLog, snapshotStore, offsetStore);
}

class MemoryStoreAdmin implements StoreAdmin {
  readonly backend = "memory" as const;
  readonly keepsPositions = true;
  readonly eventLog: EventLog;
  readonly snapshotStore: SnapshotStore;
  readonly #log: MemoryLogContents;
  readonly #offsetStore: MemoryOffsetStore | undefined;

  constructor(
    eventLog: MemoryEventLog,
    snapshotStore: MemorySnapshotStore,
    offsetStore: MemoryOffsetStore | undefined,
  ) {
    this.eventLog = eventLog;
    this.snapshotStore = snapshotStore;
    this.#log = memoryLogContents(eventLog)!;
    this.#offsetStore = offsetStore;
  }

  schema(options?: CallOptions): Promise<SchemaState> {
    return attempt(() => {
      readCall("schema", options);
      return { installed: 1, latest: 1 };
    });
  }

  setup(options?: CallOptions): Promise<void> {
    return attempt(() => void readCall("setup", options));
  }

  entityTypes(options?: CallOptions): Promise<EntityTypeSummary[]> {
    return attempt(() => {
      readCall("entityTypes", options);
      const summaries: EntityTypeSummary[] = [];
      for (const [typeName, { all, byId, deleted }] of this.#log.types) {
        const head = lastEvent(all);
        if (head === undefined) continue;
        summaries.push({
          typeName,
          entities: byId.size,
          events: all.length - deleted,
          headPosition: head.position,
        });
      }
      return summaries.sort((a, b) => compareCodePoints(a.typeName, b.typeName));
    });
  }

  entityIds(typeName: string, options?: AdminReadOptions): ReadableStream<string> {
    const signal = readListing("entityIds", typeName, options);
    const ids = [...(this.#log.types.get(typeName)?.byId.keys() ?? [])].sort(compareCodePoints);
    return arrayStream(ids, signal);
  }

  snapshots(typeName: string, options?: AdminReadOptions): ReadableStream<StoredSnapshot> {
    const signal = readListing("snapshots", typeName, options);
    const byId = memorySnapshots(this.snapshotStore)!.get(typeName) ?? new Map();
    const snapshots = [...byId].sort(([a], [b]) => compareCodePoints(a, b)).map((
      [id, snapshot],
    ) => ({
      typeName,
      id,
      seqNo: snapshot.seqNo,
      bytes: snapshot.bytes.slice(),
      version: snapshot.version,
    }));
    return arrayStream(snapshots, signal);
  }

  importEvents(events: readonly PersistedEvent[], options?: CallOptions): Promise<void> {
    return attempt(() => {
      readCall("importEvents", options);
      const plan = planImport(events, this.keepsPositions);
      const types = this.#log.types;
      // Everything is checked before the first write, so a refused call writes nothing.
      for (const entity of plan.entities.values()) {
        const held = types.get(entity.typeName)?.byId.get(entity.id)?.length;
        assertContinues(entity, held ?? null);
      }
      for (const type of plan.types.values()) {
        // The next position is after every place the log holds, deleted ones included.
        assertContinuesHead(type, types.get(type.typeName)?.all.length ?? 0);
      }
      for (const event of plan.events) {
        const typeEvents = this.#log.typeEvents(event.typeName);
        let byId = typeEvents.byId.get(event.id);
        if (byId === undefined) typeEvents.byId.set(event.id, byId = []);
        const stored = { ...event, bytes: copyBytes(event.bytes) };
        // Places skipped (events the source deleted) stay empty, so indices stay seqNo - 1 and
        // position - 1.
        typeEvents.deleted += leaveEmptyUntil(typeEvents.all, event.position - 1);
        leaveEmptyUntil(byId, event.seqNo - 1);
        byId.push(stored);
        typeEvents.all.push(stored);
      }
      for (const typeName of plan.types.keys()) types.get(typeName)!.wakeups.wake();
    });
  }

  importSnapshot(snapshot: StoredSnapshot, options?: CallOptions): Promise<void> {
    return importSnapshotInto(this.snapshotStore, snapshot, options);
  }

  projections(options?: CallOptions): Promise<ProjectionOffset[]> {
    return attempt(() => {
      readCall("projections", options);
      if (this.#offsetStore === undefined) return [];
      const { offsets, typeOffsets } = memoryOffsetContents(this.#offsetStore)!;
      const rows: ProjectionOffset[] = [...offsets]
        .filter(([name, offset]) => offset !== 0 || !typeOffsets.get(name)?.size)
        .map(([name, offset]) => ({ name, offset, updatedAt: null }));
      for (const [name, types] of typeOffsets) {
        for (const [typeName, offset] of types) {
          rows.push({ name, typeName, offset, updatedAt: null });
        }
      }
      // A name's single-type row (no typeName) sorts before its types: "" before any type name.
      return rows.sort((a, b) =>
        compareCodePoints(a.name, b.name) ||
        compareCodePoints(a.typeName ?? "", b.typeName ?? "")
      );
    });
  }

  async resetProjection(
    name: string,
    offset: number,
    options?: ResetProjectionOptions,
  ): Promise<void> {
    const { signal, typeName } = readReset(name, offset, options);
    if (this.#offsetStore === undefined) {
      throw new StorageError(
        `Cannot reset projection ${
          quote(name)
        }: this memory store admin was made without an offsetStore`,
        { reason: "invalid-configuration" },
      );
    }
    const { offsets, typeOffsets, locks } = memoryOffsetContents(this.#offsetStore)!;
    let release: () => void;
    try {
      release = await locks.acquire(name, { wait: false, signal });
    } catch (error) {
      if (!isProjectionError(error)) throw error;
      throw new ProjectionError(
        `Cannot reset projection ${quote(name)}: a runner holds it; stop it first`,
        { projection: name, reason: "locked", cause: error },
      );
    }
    try {
      const types = typeOffsets.get(name);
      if (typeName !== undefined) {
        if (types === undefined) typeOffsets.set(name, new Map([[typeName, offset]]));
        else types.set(typeName, offset);
      } else {
        for (const type of types?.keys() ?? []) types!.set(type, offset);
        if ((offsets.get(name) ?? 0) !== 0 || !types?.size) offsets.set(name, offset);
      }
    } finally {
      release();
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The last event of `events` that was not deleted. */
function lastEvent(events: readonly (PersistedEvent | undefined)[]): PersistedEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i] !== undefined) return events[i];
  }
  return undefined;
}

/** Pads `events` with empty places up to `length`; returns how many it added. */
function leaveEmptyUntil(events: (PersistedEvent | undefined)[], length: number): number {
  const added = Math.max(0, length - events.length);
  for (let i = 0; i < added; i++) events.push(undefined);
  return added;
}

function attempt<Value>(run: () => Value): Promise<Value> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}
