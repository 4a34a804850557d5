/**
 * A `Codec` of one protobuf message type, for the payloads, replies and rejections of commands
 * sent between processes.
 *
 * @module
 */

import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { Codec } from "../src/codec.ts";
import { errorText } from "../src/_error_text.ts";
import { anyValue, type OptionRules, readOptions } from "../src/_options.ts";
import { ProtobufDecodeError } from "./errors.ts";
import { isMessageDescriptor } from "./protobuf_version.ts";

/**
 * Options of {@linkcode protobufCodec}.
 *
 * @example Drop unknown fields when decoding
 * ```ts
 * import type { ProtobufCodecOptions } from "@eventsourced/eventsourced/protobuf";
 *
 * const options: ProtobufCodecOptions = { readOptions: { readUnknownFields: false } };
 * ```
 */
export interface ProtobufCodecOptions {
  /** Passed to `fromBinary`. */
  readOptions?: Partial<BinaryReadOptions> | undefined;
  /** Passed to `toBinary`. */
  writeOptions?: Partial<BinaryWriteOptions> | undefined;
}

const codecOptionRules: OptionRules<ProtobufCodecOptions> = {
  readOptions: anyValue(undefined),
  writeOptions: anyValue(undefined),
};

/**
 * The codec of messages of `schema` (a `@bufbuild/protobuf` v2 descriptor, e.g. generated
 * `DepositSchema`): the protobuf wire format. Bytes that are not such a message throw a
 * `ProtobufDecodeError` (what: `"message"`). Give it to `commandSet`'s `codecs`, so a command
 * travels as protobuf between an `EntityClient` and an `EntityHost`.
 *
 * @example Round trip of a well-known wrapper message
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { Int32ValueSchema } from "@bufbuild/protobuf/wkt";
 * import { isProtobufDecodeError, protobufCodec } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * const codec = protobufCodec(Int32ValueSchema);
 * const bytes = codec.encode(create(Int32ValueSchema, { value: 3 }));
 * assert.equal(codec.decode(bytes).value, 3);
 * assert.throws(() => codec.decode(new Uint8Array([8])), isProtobufDecodeError);
 * ```
 */
export function protobufCodec<Desc extends DescMessage>(
  schema: Desc,
  options: ProtobufCodecOptions = {},
): Codec<MessageShape<Desc>> {
  if (!isMessageDescriptor(schema)) {
    throw new TypeError("Invalid protobufCodec schema: expected a message descriptor (…Schema)");
  }
  const read = readOptions("protobufCodec", options, codecOptionRules);
  const writeOptions = read.writeOptions;
  const binaryReadOptions = read.readOptions;
  return Object.freeze({
    encode: (value: MessageShape<Desc>) => toBinary(schema, value, writeOptions),
    decode: (bytes: Uint8Array) => {
      try {
        return fromBinary(schema, bytes, binaryReadOptions);
      } catch (error) {
        throw new ProtobufDecodeError({
          messageType: schema.typeName,
          what: "message",
          byteLength: bytes.length,
          reason: errorText(error),
          cause: error,
        });
      }
    },
  });
}
