/**
 * The error of the protobuf codec: bytes that are not a valid encoding of the expected message.
 *
 * @module
 */

/**
 * The stable `code` of a {@linkcode ProtobufDecodeError}.
 *
 * @example Compare a code
 * ```ts
 * import {
 *   PROTOBUF_DECODE_ERROR_CODE,
 *   ProtobufDecodeError,
 * } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * const error = new ProtobufDecodeError({
 *   messageType: "bank.v1.State",
 *   what: "state",
 *   byteLength: 1,
 *   reason: "premature EOF",
 * });
 * assert.equal(error.code, PROTOBUF_DECODE_ERROR_CODE);
 * ```
 */
export const PROTOBUF_DECODE_ERROR_CODE = "EVENTSOURCED_PROTOBUF_DECODE_FAILED" as const;

/**
 * Fields of a {@linkcode ProtobufDecodeError}.
 *
 * @example Wrap the error of `@bufbuild/protobuf`
 * ```ts
 * import {
 *   ProtobufDecodeError,
 *   type ProtobufDecodeErrorOptions,
 * } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * const cause = new Error("premature EOF");
 * const options: ProtobufDecodeErrorOptions = {
 *   messageType: "bank.v1.State",
 *   what: "state",
 *   byteLength: 2,
 *   reason: cause.message,
 *   cause,
 * };
 * const error = new ProtobufDecodeError(options);
 * assert.equal(
 *   error.message,
 *   'Cannot decode state as "bank.v1.State" from 2 bytes: premature EOF',
 * );
 * assert.equal(error.cause, cause);
 * ```
 */
export interface ProtobufDecodeErrorOptions extends ErrorOptions {
  /** The fully qualified name of the message that was expected, e.g. `bank.v1.AccountEvent`. */
  messageType: string;
  /**
   * Whether an event, a state (snapshot) or a message of a command (payload, reply or
   * rejection, by `protobufCodec`) was being decoded.
   */
  what: "event" | "state" | "message";
  /** How many bytes were given. */
  byteLength: number;
  /** Why decoding failed, in a few words. */
  reason: string;
}

/**
 * Bytes that the protobuf codec cannot turn back into the expected message: truncated or
 * corrupt wire data, invalid UTF-8 in a string field, or an event whose required oneof has no
 * case this schema knows. The error of `@bufbuild/protobuf`, when there is one, is the `cause`.
 * An entity or `EventReader` wraps it into a `DecodeError` that names the entity and seqNo.
 *
 * @example Recognise a decode failure
 * ```ts
 * import { isProtobufDecodeError, ProtobufDecodeError } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * const error = new ProtobufDecodeError({
 *   messageType: "bank.v1.AccountEvent",
 *   what: "event",
 *   byteLength: 3,
 *   reason: "premature EOF",
 * });
 * assert.ok(isProtobufDecodeError(error));
 * assert.equal(
 *   error.message,
 *   'Cannot decode event as "bank.v1.AccountEvent" from 3 bytes: premature EOF',
 * );
 * ```
 */
export class ProtobufDecodeError extends Error {
  /** Always {@linkcode PROTOBUF_DECODE_ERROR_CODE}. */
  readonly code: typeof PROTOBUF_DECODE_ERROR_CODE = PROTOBUF_DECODE_ERROR_CODE;
  /** The fully qualified name of the expected message. */
  readonly messageType: string;
  /** Whether an event, a state or a command's message was being decoded. */
  readonly what: "event" | "state" | "message";
  /** How many bytes were given. */
  readonly byteLength: number;

  /** Creates the error from the expected message, the input size and the reason. */
  constructor(options: ProtobufDecodeErrorOptions) {
    const { messageType, what, byteLength, reason, ...errorOptions } = options;
    super(
      `Cannot decode ${what} as "${messageType}" from ${byteLength} bytes: ${reason}`,
      errorOptions,
    );
    this.name = "ProtobufDecodeError";
    this.messageType = messageType;
    this.what = what;
    this.byteLength = byteLength;
  }
}

/**
 * Whether `error` is a {@linkcode ProtobufDecodeError}, also one from another copy of the
 * package.
 *
 * @example Check a caught error
 * ```ts
 * import { isProtobufDecodeError } from "@eventsourced/eventsourced/protobuf";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isProtobufDecodeError(new Error("x")), false);
 * ```
 */
export function isProtobufDecodeError(error: unknown): error is ProtobufDecodeError {
  return error instanceof Error &&
    (error as { code?: unknown }).code === PROTOBUF_DECODE_ERROR_CODE;
}
