/**
 * Older versions of the protobuf codec's messages: the message an older version's bytes decode
 * with, and the upcaster that brings it up to date.
 *
 * @module
 */

import type { DescMessage, Message, MessageShape } from "@bufbuild/protobuf";
import { quote } from "../src/_validate.ts";
import { assertReadable, missingStep, stepFailed, type VersionChain } from "../src/_upcast.ts";

/**
 * An older version of a protobuf codec's event or state message: the `schema` its bytes decode
 * with, and `upcast`, which turns such a message into one of the next version's schema, or
 * straight into one of the current schema (which ends the chain). Make one with
 * {@linkcode protobufVersion}, which types the upcaster's argument by the schema.
 *
 * @example The version-1 state was a bare count
 * ```ts
 * import { create, createFileRegistry, type Message } from "@bufbuild/protobuf";
 * import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
 * import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
 * import { protobufVersion, type ProtobufVersion } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * // The same as compiling:
 * //   message StateV1 { uint32 count = 1; }
 * //   message State { uint32 count = 1; string unit = 2; }
 * const field = (name: string, number: number, type: number) => ({ name, jsonName: name, number, type, label: 1 });
 * const registry = createFileRegistry(
 *   create(FileDescriptorProtoSchema, {
 *     name: "state.proto",
 *     syntax: "proto3",
 *     messageType: [
 *       { name: "StateV1", field: [field("count", 1, 13)] },
 *       { name: "State", field: [field("count", 1, 13), field("unit", 2, 9)] },
 *     ],
 *   }),
 *   () => undefined,
 * );
 * // Generated code (protoc-gen-es) declares these types itself.
 * type StateV1 = Message<"StateV1"> & { count: number };
 * type State = Message<"State"> & { count: number; unit: string };
 * const StateV1Schema = registry.getMessage("StateV1") as GenMessage<StateV1>;
 * const StateSchema = registry.getMessage("State") as GenMessage<State>;
 *
 * const v1: ProtobufVersion<GenMessage<StateV1>> = protobufVersion(
 *   StateV1Schema,
 *   (old) => create(StateSchema, { count: old.count, unit: "item" }),
 * );
 * assert.deepEqual(v1.upcast(create(StateV1Schema, { count: 2 })), create(StateSchema, { count: 2, unit: "item" }));
 * ```
 */
export interface ProtobufVersion<Desc extends DescMessage = DescMessage> {
  /** The message that bytes of this version decode with. */
  readonly schema: Desc;
  /**
   * Turns a message of this version into one of the next version's schema, or of the current
   * schema (when its message name differs from the next version's).
   */
  upcast(message: MessageShape<Desc>): Message;
}

/**
 * An older version of an event or state message for the `versions` or `stateVersions` option
 * of `protobufBinarize`: bytes of that version decode with `schema`, then `upcast` brings the
 * message one version up (or straight to the current one). Throws a TypeError for a schema that
 * is not a message descriptor or an upcaster that is not a function.
 *
 * @example Version 1 of an event had one signed delta; version 2 has a oneof of two kinds
 * ```ts
 * import { create, createFileRegistry, type Message } from "@bufbuild/protobuf";
 * import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
 * import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
 * import { protobufBinarize, protobufVersion } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * // The same as compiling:
 * //   message EventV1 { sint32 delta = 1; }
 * //   message Event { oneof event { uint32 increased = 1; uint32 decreased = 2; } }
 * //   message State { sint32 value = 1; }
 * const registry = createFileRegistry(
 *   create(FileDescriptorProtoSchema, {
 *     name: "counter_versions.proto",
 *     syntax: "proto3",
 *     messageType: [
 *       { name: "EventV1", field: [{ name: "delta", jsonName: "delta", number: 1, type: 17, label: 1 }] },
 *       {
 *         name: "Event",
 *         oneofDecl: [{ name: "event" }],
 *         field: ["increased", "decreased"].map((name, i) => ({
 *           name,
 *           jsonName: name,
 *           number: i + 1,
 *           type: 13,
 *           label: 1,
 *           oneofIndex: 0,
 *         })),
 *       },
 *       { name: "State", field: [{ name: "value", jsonName: "value", number: 1, type: 17, label: 1 }] },
 *     ],
 *   }),
 *   () => undefined,
 * );
 * // Generated code (protoc-gen-es) declares these types itself.
 * type EventV1 = Message<"EventV1"> & { delta: number };
 * type Event = Message<"Event"> & {
 *   event:
 *     | { case: "increased"; value: number }
 *     | { case: "decreased"; value: number }
 *     | { case: undefined; value?: undefined };
 * };
 * type State = Message<"State"> & { value: number };
 * const EventV1Schema = registry.getMessage("EventV1") as GenMessage<EventV1>;
 * const EventSchema = registry.getMessage("Event") as GenMessage<Event>;
 * const StateSchema = registry.getMessage("State") as GenMessage<State>;
 *
 * const binarize = protobufBinarize(EventSchema, StateSchema, {
 *   eventOneof: "event",
 *   version: 2,
 *   versions: {
 *     1: protobufVersion(EventV1Schema, (old) =>
 *       create(EventSchema, {
 *         event: old.delta >= 0
 *           ? { case: "increased", value: old.delta }
 *           : { case: "decreased", value: -old.delta },
 *       })),
 *   },
 * });
 * assert.equal(binarize.eventVersion, 2);
 *
 * // Bytes written by version 1 of the code: delta = -3 (zigzag 5).
 * const event: Event = binarize.eventFromBytes(new Uint8Array([0x08, 0x05]), 1);
 * assert.deepEqual(event, create(EventSchema, { event: { case: "decreased", value: 3 } }));
 * assert.throws(() => binarize.eventFromBytes(new Uint8Array(), 3), /version 3/);
 * ```
 */
export function protobufVersion<Desc extends DescMessage>(
  schema: Desc,
  upcast: (message: MessageShape<Desc>) => Message,
): ProtobufVersion<Desc> {
  if (!isMessageDescriptor(schema)) {
    throw new TypeError(
      `Invalid protobufVersion schema: expected a message descriptor of @bufbuild/protobuf v2`,
    );
  }
  if (typeof upcast !== "function") {
    throw new TypeError(`Invalid protobufVersion upcast ${quote(upcast)}: expected a function`);
  }
  return Object.freeze({ schema, upcast });
}

/** Whether `schema` is a message descriptor of `@bufbuild/protobuf` v2. */
export function isMessageDescriptor(schema: unknown): schema is DescMessage {
  return typeof schema === "object" && schema !== null &&
    (schema as { kind?: unknown }).kind === "message";
}

/** Whether `value` is a {@linkcode ProtobufVersion}: a message descriptor and a function. */
export function isProtobufVersion(value: unknown): value is ProtobufVersion {
  return typeof value === "object" && value !== null &&
    isMessageDescriptor((value as { schema?: unknown }).schema) &&
    typeof (value as { upcast?: unknown }).upcast === "function";
}

/**
 * Decodes bytes of an older `version` with its schema and upcasts the message until it is one
 * of `current` (the schema of the chain's current version). `decode` decodes bytes with a
 * schema and throws its own error on bad bytes.
 */
export function upcastMessage(
  chain: VersionChain<ProtobufVersion>,
  current: DescMessage,
  bytes: Uint8Array,
  version: number,
  decode: (schema: DescMessage, bytes: Uint8Array) => Message,
): Message {
  assertReadable(chain, version);
  const steps = chain.steps;
  let message = decode(steps[version]!.schema, bytes);
  for (let k = version;; k++) {
    const step = steps[k];
    if (step === undefined) throw missingStep(chain, k);
    let next: Message;
    try {
      next = step.upcast(message);
    } catch (cause) {
      throw stepFailed(chain, k, cause);
    }
    const typeName = (next as { $typeName?: unknown } | null)?.$typeName;
    const nextSchema = k + 1 < chain.current ? steps[k + 1]?.schema : undefined;
    if (nextSchema !== undefined && typeName === nextSchema.typeName) {
      message = next;
    } else if (typeName === current.typeName) {
      return next;
    } else {
      throw wrongMessage(chain, k, typeName, nextSchema, current);
    }
  }
}

function wrongMessage(
  chain: VersionChain<ProtobufVersion>,
  k: number,
  typeName: unknown,
  next: DescMessage | undefined,
  current: DescMessage,
): Error {
  const got = typeof typeName === "string" ? `a "${typeName}"` : "no message";
  const expected = next === undefined
    ? `a "${current.typeName}" (version ${chain.current})` +
      (k + 1 < chain.current
        ? `; no ${chain.option}[${k + 1}] is given to read version ${k + 1}`
        : "")
    : `a "${next.typeName}" (version ${
      k + 1
    }) or a "${current.typeName}" (version ${chain.current})`;
  return new TypeError(
    `Cannot upcast ${chain.what} from version ${k}: ${chain.option}[${k}].upcast returned ${got}, expected ${expected}`,
  );
}
