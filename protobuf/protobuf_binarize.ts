/**
 * The protobuf codec: a `Binarize` over `@bufbuild/protobuf` v2 message descriptors.
 *
 * @module
 */

import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  type DescMessage,
  type DescOneof,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { Binarize } from "../src/binarize.ts";
import { errorText } from "../src/_error_text.ts";
import { anyValue, objectWith, type OptionRules, readOptions } from "../src/_options.ts";
import { isRecord, readChain, type VersionChain } from "../src/_upcast.ts";
import { ProtobufDecodeError } from "./errors.ts";
import {
  isMessageDescriptor,
  isProtobufVersion,
  type ProtobufVersion,
  upcastMessage,
} from "./protobuf_version.ts";

/**
 * Options of {@linkcode protobufBinarize}.
 *
 * @example Require a case of the event's oneof
 * ```ts
 * import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
 * import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
 * import {
 *   isProtobufDecodeError,
 *   protobufBinarize,
 *   type ProtobufBinarizeOptions,
 * } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * // The same as compiling:
 * //   message Event { oneof kind { uint32 deposited = 1; uint32 withdrawn = 2; } }
 * //   message State { uint32 cents = 1; }
 * const registry = createFileRegistry(
 *   create(FileDescriptorProtoSchema, {
 *     name: "account.proto",
 *     syntax: "proto3",
 *     messageType: [
 *       {
 *         name: "Event",
 *         oneofDecl: [{ name: "kind" }],
 *         field: ["deposited", "withdrawn"].map((name, i) => ({
 *           name,
 *           jsonName: name,
 *           number: i + 1,
 *           type: 13,
 *           label: 1,
 *           oneofIndex: 0,
 *         })),
 *       },
 *       { name: "State", field: [{ name: "cents", jsonName: "cents", number: 1, type: 13, label: 1 }] },
 *     ],
 *   }),
 *   () => undefined,
 * );
 * const Event = registry.getMessage("Event") as DescMessage;
 * const State = registry.getMessage("State") as DescMessage;
 *
 * const options: ProtobufBinarizeOptions = {
 *   eventOneof: "kind",
 *   readOptions: { readUnknownFields: false },
 * };
 * const binarize = protobufBinarize(Event, State, options);
 * assert.throws(() => binarize.eventToBytes(create(Event)), TypeError);
 * assert.throws(() => binarize.eventFromBytes(new Uint8Array()), isProtobufDecodeError);
 * ```
 */
export interface ProtobufBinarizeOptions {
  /**
   * The name of a `oneof` of the event message that every event must set, as in the usual
   * layout where one event message wraps the kinds of events in a oneof. Encoding an event
   * without a case throws a `TypeError`; decoding bytes that set no case this schema knows (an
   * empty message, or a case added by a newer schema) throws a {@linkcode ProtobufDecodeError}
   * instead of handing the entity an event it cannot apply. Default: no check.
   */
  eventOneof?: string | undefined;
  /** Passed to `fromBinary`; e.g. `{ readUnknownFields: false }` drops unknown fields. */
  readOptions?: Partial<BinaryReadOptions> | undefined;
  /** Passed to `toBinary`. */
  writeOptions?: Partial<BinaryWriteOptions> | undefined;
  /**
   * The version of the event encoding this codec writes (stored with each event), 1 to
   * `MAX_VERSION`; default 1. An event of a higher version is refused.
   */
  version?: number | undefined;
  /**
   * Per older event version k (1 to `version` − 1), the message its bytes decode with and the
   * upcaster to version k + 1 (or straight to the current message): see
   * {@linkcode protobufVersion}. Reading a version without an entry throws.
   */
  versions?: Readonly<Record<number, ProtobufVersion>> | undefined;
  /** The version of the state encoding this codec writes (stored with each snapshot); default 1. */
  stateVersion?: number | undefined;
  /** Per older state version k (1 to `stateVersion` − 1): as `versions`, for snapshots. */
  stateVersions?: Readonly<Record<number, ProtobufVersion>> | undefined;
}

const protobufRules: OptionRules<ProtobufBinarizeOptions> = {
  eventOneof: {
    default: undefined,
    valid: (value) => typeof value === "string",
    expected: "the name of a oneof",
  },
  readOptions: objectWith(undefined, [], "BinaryReadOptions (an object)"),
  writeOptions: objectWith(undefined, [], "BinaryWriteOptions (an object)"),
  version: anyValue(undefined),
  versions: { default: undefined, valid: isRecord, expected: "an object of versions" },
  stateVersion: anyValue(undefined),
  stateVersions: { default: undefined, valid: isRecord, expected: "an object of versions" },
};

const VERSION_EXPECTED = "a protobufVersion(schema, upcast)";

function readVersions(
  what: "event" | "state",
  versionKey: string,
  version: unknown,
  option: string,
  given: unknown,
): VersionChain<ProtobufVersion> {
  return readChain(
    "protobufBinarize",
    what,
    versionKey,
    version,
    option,
    given,
    isProtobufVersion,
    VERSION_EXPECTED,
  );
}

function assertMessageDescriptor(schema: unknown, name: string): asserts schema is DescMessage {
  if (!isMessageDescriptor(schema)) {
    throw new TypeError(
      `Invalid ${name}: expected a message descriptor of @bufbuild/protobuf v2 (a GenMessage ` +
        `such as "FooSchema" from generated code, or a DescMessage from a registry)`,
    );
  }
}

function findOneof(schema: DescMessage, name: string): DescOneof {
  const oneof = schema.oneofs.find((o) => o.name === name || o.localName === name);
  if (oneof === undefined) {
    const known = schema.oneofs.map((o) => `"${o.name}"`).join(", ") || "none";
    throw new TypeError(
      `Invalid eventOneof "${name}": message "${schema.typeName}" has no such oneof (has ${known})`,
    );
  }
  return oneof;
}

function caseOf(message: unknown, oneof: DescOneof): unknown {
  const group = (message as Record<string, { case?: unknown } | undefined>)[oneof.localName];
  return group?.case;
}

/**
 * A `Binarize` that writes events and states as protobuf binary, with the message descriptors
 * of `@bufbuild/protobuf` v2: the `...Schema` constants of code generated by `protoc-gen-es`,
 * or descriptors built at run time (for instance with `createFileRegistry`). The entity's
 * `Event` and `State` types are the messages' shapes; several kinds of events go through a
 * `oneof` in one event message, as with `prost` in the Rust original.
 *
 * Bytes that fail to decode throw a {@linkcode ProtobufDecodeError}; a value that is not a
 * message of the schema throws a `TypeError` on encode.
 *
 * The options `version` and `stateVersion` declare the version of the encoding written (stored
 * with each event and snapshot); `versions` and `stateVersions` give, per older version, the
 * message its bytes decode with and the upcaster to the next one (see
 * {@linkcode protobufVersion}, with an example). A version newer than `version`, or an older one
 * without an entry, throws a RangeError (the entity or reader wraps it into a `DecodeError`).
 *
 * @example Events of several kinds through a oneof (schema built at run time)
 * ```ts
 * import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
 * import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
 * import { protobufBinarize } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * // The same as compiling:
 * //   message Increased { uint32 by = 1; }
 * //   message Decreased { uint32 by = 1; }
 * //   message Event { oneof event { Increased increased = 1; Decreased decreased = 2; } }
 * //   message State { uint32 value = 1; }
 * const by = [{ name: "by", jsonName: "by", number: 1, type: 13, label: 1 }];
 * const registry = createFileRegistry(
 *   create(FileDescriptorProtoSchema, {
 *     name: "counter.proto",
 *     package: "counter",
 *     syntax: "proto3",
 *     messageType: [
 *       { name: "Increased", field: by },
 *       { name: "Decreased", field: by },
 *       {
 *         name: "Event",
 *         oneofDecl: [{ name: "event" }],
 *         field: ["increased", "decreased"].map((name, i) => ({
 *           name,
 *           jsonName: name,
 *           number: i + 1,
 *           label: 1,
 *           type: 11,
 *           typeName: i === 0 ? ".counter.Increased" : ".counter.Decreased",
 *           oneofIndex: 0,
 *         })),
 *       },
 *       { name: "State", field: [{ name: "value", jsonName: "value", number: 1, type: 13, label: 1 }] },
 *     ],
 *   }),
 *   () => undefined,
 * );
 * const EventSchema = registry.getMessage("counter.Event") as DescMessage;
 * const StateSchema = registry.getMessage("counter.State") as DescMessage;
 *
 * const binarize = protobufBinarize(EventSchema, StateSchema, { eventOneof: "event" });
 * const event = create(EventSchema, { event: { case: "decreased", value: { by: 3 } } });
 * const bytes = binarize.eventToBytes(event);
 * assert.deepEqual([...bytes], [0x12, 0x02, 0x08, 0x03]);
 * assert.deepEqual(binarize.eventFromBytes(bytes), event);
 * ```
 *
 * @example With code generated by protoc-gen-es
 * ```ts ignore
 * import { create } from "@bufbuild/protobuf";
 * import { jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import { protobufBinarize } from "@eventsourced/eventsourced/protobuf";
 * import { type CounterEvent, CounterEventSchema, type CounterState, CounterStateSchema } from
 *   "./gen/counter_pb.ts";
 *
 * const counter = {
 *   typeName: "counter",
 *   initialState: create(CounterStateSchema),
 *   handleEvent: (state: CounterState, { event }: CounterEvent): CounterState => {
 *     switch (event.case) {
 *       case "increased":
 *         return create(CounterStateSchema, { value: state.value + event.value.by });
 *       case "decreased":
 *         return create(CounterStateSchema, { value: state.value - event.value.by });
 *       default:
 *         return state;
 *     }
 *   },
 * };
 * const binarize = protobufBinarize(CounterEventSchema, CounterStateSchema, { eventOneof: "event" });
 * const ref = await spawn(counter, "c1", { eventLog: new MemoryEventLog(), binarize });
 * ```
 */
export function protobufBinarize<EventDesc extends DescMessage, StateDesc extends DescMessage>(
  eventSchema: EventDesc,
  stateSchema: StateDesc,
  options?: ProtobufBinarizeOptions,
): Binarize<MessageShape<EventDesc>, MessageShape<StateDesc>> {
  assertMessageDescriptor(eventSchema, "eventSchema");
  assertMessageDescriptor(stateSchema, "stateSchema");
  const read = readOptions("protobufBinarize", options, protobufRules);
  const oneof = read.eventOneof === undefined ? undefined : findOneof(eventSchema, read.eventOneof);
  const events = readVersions("event", "version", read.version, "versions", read.versions);
  const states = readVersions(
    "state",
    "stateVersion",
    read.stateVersion,
    "stateVersions",
    read.stateVersions,
  );
  const binaryReadOptions = read.readOptions;
  const writeOptions = read.writeOptions;

  const assertMessage = (schema: DescMessage, value: unknown, what: "event" | "state") => {
    const typeName = (value as { $typeName?: unknown } | null)?.$typeName;
    if (typeName !== schema.typeName) {
      throw new TypeError(
        `Cannot encode ${what} as "${schema.typeName}": expected a message made by ` +
          `create(${schema.name}Schema, …), got ${
            typeof typeName === "string" ? `a "${typeName}"` : typeof value
          }`,
      );
    }
  };

  const encode = <Desc extends DescMessage>(
    schema: Desc,
    value: MessageShape<Desc>,
    what: "event" | "state",
  ): Uint8Array => {
    assertMessage(schema, value, what);
    try {
      return toBinary(schema, value, writeOptions);
    } catch (cause) {
      throw new TypeError(`Cannot encode ${what} as "${schema.typeName}": ${errorText(cause)}`, {
        cause,
      });
    }
  };

  const decode = <Desc extends DescMessage>(
    schema: Desc,
    bytes: Uint8Array,
    what: "event" | "state",
  ): MessageShape<Desc> => {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`Cannot decode ${what}: expected a Uint8Array, got ${typeof bytes}`);
    }
    try {
      return fromBinary(schema, bytes, binaryReadOptions);
    } catch (cause) {
      throw new ProtobufDecodeError({
        messageType: schema.typeName,
        what,
        byteLength: bytes.byteLength,
        reason: errorText(cause),
        cause,
      });
    }
  };

  const decodeEvent = (schema: DescMessage, bytes: Uint8Array) => decode(schema, bytes, "event");
  const decodeState = (schema: DescMessage, bytes: Uint8Array) => decode(schema, bytes, "state");

  return {
    eventToBytes(event) {
      assertMessage(eventSchema, event, "event");
      if (oneof !== undefined && caseOf(event, oneof) === undefined) {
        throw new TypeError(
          `Cannot encode event as "${eventSchema.typeName}": its oneof "${oneof.name}" has no case set`,
        );
      }
      return encode(eventSchema, event, "event");
    },
    eventFromBytes(bytes, version) {
      const event = version === undefined || version === events.current
        ? decode(eventSchema, bytes, "event")
        : upcastMessage(events, eventSchema, bytes, version, decodeEvent) as MessageShape<
          EventDesc
        >;
      if (oneof !== undefined && caseOf(event, oneof) === undefined) {
        throw new ProtobufDecodeError({
          messageType: eventSchema.typeName,
          what: "event",
          byteLength: bytes.byteLength,
          reason: `no case of oneof "${oneof.name}" is set (known cases: ${
            oneof.fields.map((f) => `${f.name} = ${f.number}`).join(", ")
          })${
            version === undefined || version === events.current
              ? ""
              : ` after upcasting from version ${version}`
          }`,
        });
      }
      return event;
    },
    stateToBytes: (state) => encode(stateSchema, state, "state"),
    stateFromBytes: (bytes, version) =>
      version === undefined || version === states.current
        ? decode(stateSchema, bytes, "state")
        : upcastMessage(states, stateSchema, bytes, version, decodeState) as MessageShape<
          StateDesc
        >,
    eventVersion: events.current,
    stateVersion: states.current,
  };
}
