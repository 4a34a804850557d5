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
  assertTypeName,
  DEFAULT_MAX_EVENT_BYTES,
  throwIfAborted,
} from "./_validate.ts";
import { booleanOption, integerAtLeast, readOptions, signalOption } from "./_options.ts";
import { callSignal } from "./_call_options.ts";
import { readPersistOptions } from "./_persist_options.ts";
import { exposeMemoryLog } from "./_memory_internals.ts";

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

class TypeEvents implements ArraySource {
  readonly all: PersistedEvent[] = [];
  readonly byId = new Map<string, PersistedEvent[]>();
  readonly wakeups = new Wakeups();
  items(): readonly PersistedEvent[] {
    return this.all;
  }
}

/**
 * Events kept in memory: the concurrency check, atomic multi-event persist, finite and live
 * reads and abort, as in a real backend; positions are dense per type name (1, 2, 3 …), also
 * after an import (`memoryStoreAdmin` refuses positions that skip a number).
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
    let entityEvents: PersistedEvent[] | undefined;
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

  /** {@inheritDoc EventLog.eventsByType} */
  /** {@inheritDoc EventLog.countAfter} */
  countAfter(typeName: string, position: number, options?: CallOptions): Promise<number> {
    try {
      throwIfAborted(callSignal("countAfter", options));
      assertTypeName(typeName);
      assertNonNegativeInteger(position, "position");
      const held = this.#types.get(typeName)?.all.length ?? 0;
      return Promise.resolve(Math.max(0, held - position));
    } catch (error) {
      return Promise.reject(error);
    }
  }

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
