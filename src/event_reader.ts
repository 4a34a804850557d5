/**
 * The typed read side: an entity's events decoded from the log, by id or by type.
 *
 * @module
 */

import type { Binarize } from "./binarize.ts";
import type { EventLog, PersistedEvent, ReadOptions } from "./event_log.ts";
import type { EventMetadata } from "./event_metadata.ts";
import { decodeEvent, type EventDecoder } from "./_decode.ts";
import { assertTypeName } from "./_validate.ts";
import { objectWith, type OptionRules, readOptions } from "./_options.ts";

const readerRules: OptionRules<EventReaderOptions<unknown>> = {
  eventLog: objectWith(
    undefined as unknown as EventLog,
    ["eventsById", "eventsByType"],
    "an EventLog (eventsById, eventsByType)",
  ),
  binarize: objectWith(
    undefined as unknown as EventDecoder<unknown>,
    ["eventFromBytes"],
    "a Binarize with eventFromBytes",
  ),
};

/**
 * A decoded event with its place in the log, when it was written and its metadata.
 *
 * @example Decode one persisted event
 * ```ts
 * import { type EventEnvelope, EventReader, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const binarize = jsonBinarize<string, unknown>();
 * const reader = new EventReader<string>("greeting", { eventLog: new MemoryEventLog(), binarize });
 * const envelope: EventEnvelope<string> = reader.decode({
 *   typeName: "greeting", id: "a", seqNo: 1, position: 1, bytes: binarize.eventToBytes("hi"),
 *   version: 1, writtenAt: Date.now(), metadata: { correlationId: "c-1" },
 * });
 * assert.equal(envelope.event, "hi");
 * assert.equal(envelope.metadata.correlationId, "c-1");
 * ```
 */
export interface EventEnvelope<Event> {
  /** The entity's id. */
  readonly id: string;
  /** The event's seqNo within its entity. */
  readonly seqNo: number;
  /** The event's position within its type name: the offset a projection stores. */
  readonly position: number;
  /** The decoded event, upcast to the codec's current version. */
  readonly event: Event;
  /** The version of the encoding the event was stored with (before upcasting). */
  readonly version: number;
  /** When the event was stored, in milliseconds since the Unix epoch. */
  readonly writtenAt: number;
  /** The metadata persisted with the event; `{}` when none was. */
  readonly metadata: EventMetadata;
}

/**
 * Options of an {@linkcode EventReader}.
 *
 * @example Read with the JSON codec
 * ```ts
 * import { EventReader, type EventReaderOptions, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 *
 * const options: EventReaderOptions<number> = { eventLog: new MemoryEventLog(), binarize: jsonBinarize() };
 * const reader = new EventReader("counter", options);
 * await reader.eventsByType().cancel();
 * ```
 */
export interface EventReaderOptions<Event> {
  /** The log to read. */
  eventLog: EventLog;
  /** Decodes the events; only `eventFromBytes` and `eventVersion` are used. */
  binarize: Pick<Binarize<Event, unknown>, "eventFromBytes" | "eventVersion">;
}

/**
 * Reads an entity type's events from an {@linkcode EventLog} and decodes them, as
 * `ReadableStream`s that are finite (end at the head as of the call) or live. An event that
 * cannot be decoded errors the stream with a `DecodeError` naming typeName, id and seqNo.
 *
 * @example Read every counter event so far
 * ```ts
 * import { EventReader, jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(5)]);
 * await eventLog.persist("counter", "b", null, [binarize.eventToBytes(7)]);
 *
 * const reader = new EventReader<number>("counter", { eventLog, binarize });
 * const seen = [];
 * for await (const { id, event, position } of reader.eventsByType()) seen.push([id, event, position]);
 * assert.deepEqual(seen, [["a", 5, 1], ["b", 7, 2]]);
 * ```
 */
export class EventReader<Event> {
  /** The type name whose events are read. */
  readonly typeName: string;
  readonly #eventLog: EventLog;
  readonly #binarize: EventDecoder<Event>;

  /** Reads events of `typeName` (or of the given entity definition's type name). */
  constructor(
    typeName: string | { readonly typeName: string },
    options: EventReaderOptions<Event>,
  ) {
    const name = typeof typeName === "string" ? typeName : typeName?.typeName;
    assertTypeName(name);
    const read = readOptions("EventReader", options, readerRules);
    for (const required of ["eventLog", "binarize"] as const) {
      if (read[required] === undefined) {
        throw new TypeError(
          `Missing EventReader option ${required}: expected ${readerRules[required].expected}`,
        );
      }
    }
    this.typeName = name;
    this.#eventLog = read.eventLog;
    this.#binarize = read.binarize as EventDecoder<Event>;
  }

  /** The events of entity `id` from `fromSeqNo` (inclusive; default 1). */
  eventsById(
    id: string,
    fromSeqNo = 1,
    options?: ReadOptions,
  ): ReadableStream<EventEnvelope<Event>> {
    return this.#decode(this.#eventLog.eventsById(this.typeName, id, fromSeqNo, options));
  }

  /** The events of every entity of the type from `fromPosition` (inclusive; default 1). */
  eventsByType(fromPosition = 1, options?: ReadOptions): ReadableStream<EventEnvelope<Event>> {
    return this.#decode(this.#eventLog.eventsByType(this.typeName, fromPosition, options));
  }

  /**
   * Decodes one persisted event, upcasting an older version, or throws a `DecodeError` naming
   * it (also for a version newer than the codec's `eventVersion`).
   */
  decode(persisted: PersistedEvent): EventEnvelope<Event> {
    return {
      id: persisted.id,
      seqNo: persisted.seqNo,
      position: persisted.position,
      event: decodeEvent(this.#binarize, persisted),
      version: persisted.version,
      writtenAt: persisted.writtenAt,
      metadata: persisted.metadata,
    };
  }

  #decode(source: ReadableStream<PersistedEvent>): ReadableStream<EventEnvelope<Event>> {
    return source.pipeThrough(
      new TransformStream<PersistedEvent, EventEnvelope<Event>>({
        transform: (persisted, controller) => controller.enqueue(this.decode(persisted)),
      }),
    );
  }
}
