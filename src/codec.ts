/**
 * Codecs of the values that travel between processes: a command's payload, its reply and its
 * rejection.
 *
 * @module
 */

/**
 * Turns one kind of value into bytes and back, for a command's payload, reply or rejection
 * on its way between processes. `decode` throws on bytes it cannot read.
 *
 * @example A codec for numbers as decimal text
 * ```ts
 * import type { Codec } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const decimal: Codec<number> = {
 *   encode: (value) => new TextEncoder().encode(String(value)),
 *   decode: (bytes) => Number(new TextDecoder().decode(bytes)),
 * };
 * assert.equal(decimal.decode(decimal.encode(42)), 42);
 * ```
 */
export interface Codec<T> {
  /** The bytes of `value`. */
  encode(value: T): Uint8Array;
  /** The value of `bytes`; throws when they are not one. */
  decode(bytes: Uint8Array): T;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

const JSON_CODEC: Codec<unknown> = Object.freeze({
  encode(value: unknown): Uint8Array {
    // `undefined` (a command without payload, a reply of nothing) travels as no bytes at all.
    if (value === undefined) return EMPTY;
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new TypeError(`Cannot encode ${typeof value} as JSON`);
    }
    return encoder.encode(text);
  },
  decode(bytes: Uint8Array): unknown {
    return bytes.length === 0 ? undefined : JSON.parse(decoder.decode(bytes));
  },
});

/**
 * The JSON codec: UTF-8 JSON text, `undefined` as no bytes. What `JSON.stringify` drops or
 * changes (functions, `Map`, `Date` to a string) does not come back; use a codec of your own
 * (or `protobufCodec` from `./protobuf`) for such values.
 *
 * @example Round trip
 * ```ts
 * import { jsonCodec } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const codec = jsonCodec<{ amount: number }>();
 * assert.deepEqual(codec.decode(codec.encode({ amount: 5 })), { amount: 5 });
 * assert.equal(codec.decode(codec.encode(undefined as never)), undefined);
 * ```
 */
export function jsonCodec<T>(): Codec<T> {
  return JSON_CODEC as Codec<T>;
}
