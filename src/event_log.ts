/**
 * The event log port: bytes in and out, per-entity seqNos, per-type positions.
 *
 * @module
 */

import type { EventMetadata } from "./event_metadata.ts";

/**
 * Options of a read from an {@linkcode EventLog}.
 *
 * @example A live read that a signal ends
 * ```ts
 * import { MemoryEventLog, type ReadOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * const controller = new AbortController();
 * const options: ReadOptions = { live: true, signal: controller.signal };
 * const reader = log.eventsByType("counter", 1, options).getReader();
 * const next = reader.read();
 * controller.abort(new Error("done"));
 * await assert.rejects(next, /done/);
 * ```
 */
export interface ReadOptions {
  /** `false` (default): end at the head as of the call. `true`: go on with later events. */
  live?: boolean;
  /** Ends the read and releases what it holds on the server; the stream errors with the reason. */
  signal?: AbortSignal;
}

/**
 * Options of a single call to an {@linkcode EventLog} or {@linkcode SnapshotStore}.
 *
 * @example Give up on a call
 * ```ts
 * import { type CallOptions, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const options: CallOptions = { signal: AbortSignal.abort(new Error("too late")) };
 * await assert.rejects(new MemoryEventLog().lastSeqNo("counter", "a", options), /too late/);
 * ```
 */
export interface CallOptions {
  /** Cancels the call where the backend can. */
  signal?: AbortSignal | undefined;
}

/**
 * Options of {@linkcode EventLog.persist}: the call's signal, and what is stored with every
 * event of the call.
 *
 * @example Persist version-2 events of a command
 * ```ts
 * import { MemoryEventLog, type PersistOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * const options: PersistOptions = { version: 2, metadata: { commandId: "c-1" } };
 * await log.persist("counter", "a", null, [new Uint8Array([1])], options);
 * for await (const event of log.eventsById("counter", "a", 1)) {
 *   assert.equal(event.version, 2);
 *   assert.equal(event.metadata.commandId, "c-1");
 * }
 * ```
 */
export interface PersistOptions extends CallOptions {
  /**
   * Stored with every event of the call; checked against `METADATA_LIMITS` before any write.
   * Default: none (read back as `{}`).
   */
  metadata?: EventMetadata | undefined;
  /**
   * The version of the events' encoding (see `Binarize.eventVersion`), an integer from 1 to
   * 2147483647. Default 1.
   */
  version?: number | undefined;
}

/**
 * An event as stored: its entity, its place in the entity's and the type's order, its bytes,
 * their version, when it was written and its metadata.
 *
 * @example Read persisted events
 * ```ts
 * import { MemoryEventLog, type PersistedEvent } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * await log.persist("counter", "a", null, [new Uint8Array([7])]);
 * const events: PersistedEvent[] = [];
 * for await (const event of log.eventsByType("counter", 1)) events.push(event);
 * assert.deepEqual(events.map((e) => [e.id, e.seqNo, e.position, [...e.bytes]]), [["a", 1, 1, [7]]]);
 * assert.equal(events[0]!.version, 1);
 * assert.deepEqual(events[0]!.metadata, {});
 * ```
 */
export interface PersistedEvent {
  /** The entity's type name. */
  readonly typeName: string;
  /** The entity's id. */
  readonly id: string;
  /**
   * The event's number within its entity: 1, 2, 3 … without gaps, from the first event that
   * was not deleted.
   */
  readonly seqNo: number;
  /**
   * The event's place in `eventsByType` for its type name: strictly increasing in the order
   * readers see events, never revealing an event below a position already seen.
   */
  readonly position: number;
  /** The encoded event. */
  readonly bytes: Uint8Array;
  /** The version of the encoding the bytes were written with; 1 when none was given. */
  readonly version: number;
  /**
   * When the event was stored, in milliseconds since the Unix epoch, by the server's clock
   * where the backend has one. Never goes back within an entity while that clock does not.
   */
  readonly writtenAt: number;
  /** The metadata persisted with the event; `{}` when none was. */
  readonly metadata: EventMetadata;
}

/**
 * Storage for events. Implementations keep the rules in `docs/event-log-rules.md` (shipped
 * with the package; see the README section "The rules every event log keeps"): dense seqNos
 * per entity, the concurrency check, atomic multi-event persist, positions that never go
 * back, finite and live reads, copied bytes, and errors that say whether a write may have
 * happened. `testEventLog` from `./testing` checks them.
 *
 * @example Write and read back
 * ```ts
 * import { type EventLog, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const log: EventLog = new MemoryEventLog();
 * const last = await log.persist("counter", "a", null, [new Uint8Array([1]), new Uint8Array([2])]);
 * assert.equal(last, 2);
 * const seqNos = [];
 * for await (const event of log.eventsById("counter", "a", 1)) seqNos.push(event.seqNo);
 * assert.deepEqual(seqNos, [1, 2]);
 * ```
 */
export interface EventLog {
  /**
   * Appends `events` (at least one) atomically to the entity, if its last seqNo is
   * `lastSeqNo` (`null`: no events yet); otherwise rejects with `ConcurrencyError` and writes
   * nothing. Every event gets `options.version` and `options.metadata`. Resolves to the seqNo
   * of the last event written.
   */
  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number>;
  /** The seqNo of the entity's last event, or `null` when it has none. */
  lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null>;
  /** The entity's events from `fromSeqNo` (inclusive), in seqNo order. */
  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent>;
  /** The events of all entities of `typeName` from `fromPosition` (inclusive), in position order. */
  eventsByType(
    typeName: string,
    fromPosition: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent>;
  /**
   * How many events of `typeName` have a position above `position`: what a reader that has
   * read up to `position` has left. After deletions it may count the positions of deleted
   * events too (never fewer than the events left; exact where none was deleted; 0 at the
   * head). Optional: the logs that can count without reading implement it (memory,
   * PostgreSQL and PGlite, whose positions are 1, 2, 3 … per type); projections use it to
   * report how many events they are behind.
   */
  countAfter?(typeName: string, position: number, options?: CallOptions): Promise<number>;
  /**
   * Deletes the entity's events with a seqNo up to `toSeqNo`, except its last event, which
   * stays so that the entity's seqNo goes on from there; resolves to how many were deleted.
   * The positions of the events that stay do not change, and no later event is given a
   * deleted position. Optional: every log of this package implements it. Use
   * `deleteEventsUpTo`, which first checks that a snapshot covers what goes.
   */
  deleteEvents?(
    typeName: string,
    id: string,
    toSeqNo: number,
    options?: CallOptions,
  ): Promise<number>;
  /**
   * Deletes every event of the entity; resolves to how many were deleted. Afterwards the id is
   * free: `lastSeqNo` is `null` and a new entity with that id starts at seqNo 1, at positions
   * after every position the type has had. Optional: every log of this package implements it.
   */
  deleteEntity?(typeName: string, id: string, options?: CallOptions): Promise<number>;
}
