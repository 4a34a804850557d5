/**
 * The protobuf codec: {@linkcode protobufBinarize} turns `@bufbuild/protobuf` v2 message
 * descriptors (from `protoc-gen-es` or built at run time) into the `Binarize` an entity is
 * spawned with, the twin of the Rust original's `prost` codec. Events of several kinds go
 * through a `oneof` in one event message. Older versions of the messages are read through
 * {@linkcode protobufVersion}: the message each version decodes with and an upcaster.
 *
 * Needs the peer dependency `@bufbuild/protobuf` (v2).
 *
 * @example Round-trip a state
 * ```ts
 * import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
 * import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
 * import { protobufBinarize } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * const registry = createFileRegistry(
 *   create(FileDescriptorProtoSchema, {
 *     name: "state.proto",
 *     syntax: "proto3",
 *     messageType: [{
 *       name: "Balance",
 *       field: [{ name: "cents", jsonName: "cents", number: 1, type: 13, label: 1 }],
 *     }],
 *   }),
 *   () => undefined,
 * );
 * const Balance = registry.getMessage("Balance") as DescMessage;
 * const binarize = protobufBinarize(Balance, Balance);
 * const state = create(Balance, { cents: 150 });
 * assert.deepEqual(binarize.stateFromBytes(binarize.stateToBytes(state)), state);
 * ```
 *
 * @module
 */

export type { ProtobufBinarizeOptions } from "./protobuf_binarize.ts";
export type { ProtobufVersion } from "./protobuf_version.ts";
export type { ProtobufCodecOptions } from "./protobuf_codec.ts";
export type { ProtobufDecodeErrorOptions } from "./errors.ts";

export { protobufBinarize } from "./protobuf_binarize.ts";
export { protobufVersion } from "./protobuf_version.ts";
export { protobufCodec } from "./protobuf_codec.ts";
export {
  isProtobufDecodeError,
  PROTOBUF_DECODE_ERROR_CODE,
  ProtobufDecodeError,
} from "./errors.ts";
