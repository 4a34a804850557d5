/**
 * An in-memory {@linkcode EventLog} with the full semantics of a real one.
 *
 * @module
 */

import { ConcurrencyError } from "./errors.ts";
import type {
  CallOptions,
  EventLog,
  PersistedEvent,
  PersistOptions,
  ReadOptions,
} from "./event_log.ts";
import { arrayEventStream, type ArraySource, copyBytes, Wakeups } from "./_event_stream.ts";
import {
  assertId,
  assertNonNegativeInteger,
  assertPersistArguments,
  assertPersistPayload,
  assertPositiveInteger,
  assertTypeName,
  DEFAULT_MAX_EVENT_BYTES,
  throwIfAborted,
} from "./_validate.ts";
import { booleanOption, integerAtLeast, readOptions, signalOption } from "./_options.ts";
import { callSignal } from "./_call_options.ts";
import { readPersistOptions } from "./_persist_options.ts";
import { exposeMemoryLog, type MemoryTypeEvents } from "./_memory_internals.ts";

/**
 * Options of a {@linkcode MemoryEventLog}.
 *
 * @example A log that refuses events over 1 KiB
 * ```ts
 * import { MemoryEventLog, type MemoryEventLogOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const options: MemoryEventLogOptions = { maxEventBytes: 1024 };
 * const log = new MemoryEventLog(options);
 * await assert.rejects(log.persist("counter", "a", null, [new Uint8Array(2048)]), /maxEventBytes/);
 * ```
 */
export interface MemoryEventLogOptions {
  /**
   * The largest event, in bytes, that `persist` takes; a larger one is refused with a
   * `StorageError` of reason `"too-large"` before anything is written. Default 4 MiB.
   */
  maxEventBytes?: number | undefined;
}

const readRules = { live: booleanOption(false), signal: signalOption() };

const NO_EVENTS: readonly PersistedEvent[] = [];

// A deleted event leaves `undefined` at its index, so positions and seqNos stay index + 1, the
// next position stays `all.length + 1` (never one a reader has seen) and live readers' indices
// never move.
class TypeEvents implements ArraySource, MemoryTypeEvents {
  readonly all: (PersistedEvent | undefined)[] = [];
  readonly byId = new Map<string, (PersistedEvent | undefined)[]>();
  readonly wakeups = new Wakeups();
  deleted = 0;
  items(): readonly (PersistedEvent | undefined)[] {
    return this.all;
  }
}

/**
 * Events kept in memory: the concurrency check, atomic multi-event persist, finite and live
 * reads and abort, and deletion, as in a real backend; positions are 1, 2, 3 … per type name,
 * and the positions of deleted events are never given again.
 * Events are lost when the process ends: for tests, demos and benchmarks. Like every log it
 * copies the bytes given to `persist` and gives each reader bytes of its own, so changing an
 * array afterwards never changes the log (see the rules in `docs/event-log-rules.md`).
 *
 * @example Persist with a concurrency check
 * ```ts
 * import { isConcurrencyError, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * assert.equal(await log.persist("account", "a", null, [new Uint8Array([1])]), 1);
 * const stale = await log.persist("account", "a", null, [new Uint8Array([2])]).catch((e) => e);
 * assert.ok(isConcurrencyError(stale));
 * assert.equal(await log.lastSeqNo("account", "a"), 1);
 * ```
 */
export class MemoryEventLog implements EventLog {
  readonly #types = new Map<string, TypeEvents>();
  readonly #maxEventBytes: number;

  static {
    exposeMemoryLog((log) =>
      #types in log
        ? { types: log.#types, typeEvents: (typeName) => log.#typeEvents(typeName) }
        : undefined
    );
  }

  /** Creates an empty log. */
  constructor(options?: MemoryEventLogOptions) {
    this.#maxEventBytes = readOptions("MemoryEventLog", options, {
      maxEventBytes: integerAtLeast(1, DEFAULT_MAX_EVENT_BYTES),
    }).maxEventBytes!;
  }

  // Names already in the maps were checked when first seen; only new ones are validated.
  #typeEvents(typeName: string): TypeEvents {
    let events = this.#types.get(typeName);
    if (events === undefined) {
      assertTypeName(typeName);
      events = new TypeEvents();
      this.#types.set(typeName, events);
    }
    return events;
  }

  /** {@inheritDoc EventLog.persist} */
  persist(
    typeName: string,
    id: string,
    lastSeqNo: number | null,
    events: readonly Uint8Array[],
    options?: PersistOptions,
  ): Promise<number> {
    let typeEvents: TypeEvents;
    let entityEvents: (PersistedEvent | undefined)[] | undefined;
    let version: number;
    let metadata: PersistedEvent["metadata"];
    try {
      const call = readPersistOptions("persist", options);
      const signal = call.signal;
      version = call.version;
      metadata = call.metadata;
      entityEvents = this.#types.get(typeName)?.byId.get(id);
      // An entity the log holds had its names checked at its first persist.
      if (entityEvents === undefined) {
        assertPersistArguments(typeName, id, lastSeqNo, events, this.#maxEventBytes, signal);
      } else {
        assertPersistPayload(typeName, id, lastSeqNo, events, this.#maxEventBytes, signal);
      }
      typeEvents = this.#typeEvents(typeName);
    } catch (error) {
      return Promise.reject(error);
    }
    const actual = entityEvents === undefined ? null : entityEvents.length;
    if (actual !== lastSeqNo) {
      return Promise.reject(new ConcurrencyError({ typeName, id, expected: lastSeqNo, actual }));
    }
    if (entityEvents === undefined) {
      entityEvents = [];
      typeEvents.byId.set(id, entityEvents);
    }
    const all = typeEvents.all;
    // A clock that went back is held at the entity's last writtenAt, which never goes back.
    const writtenAt = Math.max(Date.now(), entityEvents.at(-1)?.writtenAt ?? 0);
    for (const bytes of events) {
      const event: PersistedEvent = {
        typeName,
        id,
        seqNo: entityEvents.length + 1,
        position: all.length + 1,
        bytes: copyBytes(bytes),
        version,
        writtenAt,
        metadata,
      };
      entityEvents.push(event);
      all.push(event);
    }
    typeEvents.wakeups.wake();
    return Promise.resolve(entityEvents.length);
  }

  /** {@inheritDoc EventLog.lastSeqNo} */
  lastSeqNo(typeName: string, id: string, options?: CallOptions): Promise<number | null> {
    try {
      assertTypeName(typeName);
      assertId(id);
      throwIfAborted(callSignal("lastSeqNo", options));
    } catch (error) {
      return Promise.reject(error);
    }
    const length = this.#types.get(typeName)?.byId.get(id)?.length;
    return Promise.resolve(length === undefined ? null : length);
  }

  /** {@inheritDoc EventLog.eventsById} */
  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    assertTypeName(typeName);
    assertId(id);
    assertNonNegativeInteger(fromSeqNo, "fromSeqNo");
    const read = readOptions("eventsById", options, readRules);
    const typeEvents = this.#typeEvents(typeName);
    const source: ArraySource = {
      items: () => typeEvents.byId.get(id) ?? NO_EVENTS,
      wakeups: typeEvents.wakeups,
    };
    return arrayEventStream(source, Math.max(fromSeqNo - 1, 0), read, (event) => event.seqNo);
  }

  /**
   * {@inheritDoc EventLog.countAfter}
   *
   * The memory log counts exactly, also after deletions.
   */
  countAfter(typeName: string, position: number, options?: CallOptions): Promise<number> {
    try {
      throwIfAborted(callSignal("countAfter", options));
      assertTypeName(typeName);
      assertNonNegativeInteger(position, "position");
      const typeEvents = this.#types.get(typeName);
      if (typeEvents === undefined) return Promise.resolve(0);
      const all = typeEvents.all;
      if (typeEvents.deleted === 0) return Promise.resolve(Math.max(0, all.length - position));
      let count = 0;
      for (let i = position; i < all.length; i++) if (all[i] !== undefined) count++;
      return Promise.resolve(count);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@inheritDoc EventLog.deleteEvents} */
  deleteEvents(
    typeName: string,
    id: string,
    toSeqNo: number,
    options?: CallOptions,
  ): Promise<number> {
    try {
      assertTypeName(typeName);
      assertId(id);
      assertPositiveInteger(toSeqNo, "toSeqNo");
      throwIfAborted(callSignal("deleteEvents", options));
    } catch (error) {
      return Promise.reject(error);
    }
    const typeEvents = this.#types.get(typeName);
    const entityEvents = typeEvents?.byId.get(id);
    if (typeEvents === undefined || entityEvents === undefined) return Promise.resolve(0);
    // The last event stays, so that the entity's seqNo goes on from it.
    const end = Math.min(toSeqNo, entityEvents.length - 1);
    let deleted = 0;
    for (let i = 0; i < end; i++) {
      const event = entityEvents[i];
      if (event === undefined) continue;
      entityEvents[i] = undefined;
      typeEvents.all[event.position - 1] = undefined;
      deleted++;
    }
    typeEvents.deleted += deleted;
    return Promise.resolve(deleted);
  }

  /** {@inheritDoc EventLog.deleteEntity} */
  deleteEntity(typeName: string, id: string, options?: CallOptions): Promise<number> {
    try {
      assertTypeName(typeName);
      assertId(id);
      throwIfAborted(callSignal("deleteEntity", options));
    } catch (error) {
      return Promise.reject(error);
    }
    const typeEvents = this.#types.get(typeName);
    const entityEvents = typeEvents?.byId.get(id);
    if (typeEvents === undefined || entityEvents === undefined) return Promise.resolve(0);
    typeEvents.byId.delete(id);
    let deleted = 0;
    for (const event of entityEvents) {
      if (event === undefined) continue;
      typeEvents.all[event.position - 1] = undefined;
      deleted++;
    }
    typeEvents.deleted += deleted;
    return Promise.resolve(deleted);
  }

  /** {@inheritDoc EventLog.eventsByType} */
  eventsByType(
    typeName: string,
    fromPosition: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    assertTypeName(typeName);
    assertNonNegativeInteger(fromPosition, "fromPosition");
    const read = readOptions("eventsByType", options, readRules);
    return arrayEventStream(
      this.#typeEvents(typeName),
      Math.max(fromPosition - 1, 0),
      read,
      (event) => event.position,
    );
  }
}
