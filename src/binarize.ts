/**
 * Conversion of events and states to and from bytes, and the JSON codec.
 *
 * @module
 */

import { allocate } from "./_slab.ts";

/**
 * Turns an entity's events and state into bytes and back. Event logs and snapshot stores only
 * see the bytes.
 *
 * @example A hand-written codec for numbers
 * ```ts
 * import type { Binarize } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const numbers: Binarize<number, number> = {
 *   eventToBytes: (n) => new Uint8Array(new Float64Array([n]).buffer),
 *   eventFromBytes: (b) => new Float64Array(b.slice().buffer)[0]!,
 *   stateToBytes: (n) => new Uint8Array(new Float64Array([n]).buffer),
 *   stateFromBytes: (b) => new Float64Array(b.slice().buffer)[0]!,
 * };
 * assert.equal(numbers.eventFromBytes(numbers.eventToBytes(1.5)), 1.5);
 * ```
 */
export interface Binarize<Event, State> {
  /** Encodes an event, in the encoding of version {@linkcode Binarize.eventVersion}. */
  eventToBytes(event: Event): Uint8Array;
  /**
   * Decodes an event written with encoding `version` (1 to `eventVersion`; the log gives 1
   * for events written before versions existed; omitted: `eventVersion`), upcasting an older
   * one to the current shape; throws on bytes it cannot read.
   */
  eventFromBytes(bytes: Uint8Array, version?: number): Event;
  /** Encodes a state for a snapshot, in the encoding of {@linkcode Binarize.stateVersion}. */
  stateToBytes(state: State): Uint8Array;
  /**
   * Decodes a snapshot's state written with encoding `version` (omitted: `stateVersion`);
   * throws on bytes or a version it cannot read (the entity then passes the snapshot over and
   * replays from its first event).
   */
  stateFromBytes(bytes: Uint8Array, version?: number): State;
  /**
   * The version of the events' encoding this codec writes, stored with each event; default 1.
   * Entities and readers refuse an event of a higher version with a `DecodeError`.
   */
  readonly eventVersion?: number | undefined;
  /** The version of the states' encoding this codec writes, stored with each snapshot; default 1. */
  readonly stateVersion?: number | undefined;
}

/**
 * The JSON codec: UTF-8 JSON for events and states. Values must survive `JSON.stringify`
 * (no `undefined`, `bigint`, `Map` or class instances); a value that encodes to nothing throws,
 * and so does a non-finite number (`NaN`, `Infinity`, `-Infinity`), naming its path, since
 * JSON would turn it into `null`. An entity whose event fails so fails the command with reason
 * `"encode-failed"`, before anything is written.
 *
 * @example Round-trip an event
 * ```ts
 * import { jsonBinarize } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const binarize = jsonBinarize<{ type: string; by: number }, number>();
 * const bytes = binarize.eventToBytes({ type: "increased", by: 2 });
 * assert.deepEqual(binarize.eventFromBytes(bytes), { type: "increased", by: 2 });
 * ```
 */
export function jsonBinarize<Event, State>(): Binarize<Event, State> {
  return jsonCodec as Binarize<Event, State>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// Decoding ASCII cannot fail, and the non-fatal decoder is several times faster on Deno.
const asciiDecoder = new TextDecoder("utf-8");

// TextEncoder crosses into native code on every call and allocates, which costs more than
// encoding a typical small event; a plain loop over short ASCII text into a slab is several
// times faster.
const SHORT_TEXT = 256;

function toBytes(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`Cannot encode ${typeof value} as JSON: it has no JSON form`);
  }
  // JSON.stringify writes NaN and ±Infinity as null, which would decode as another value; only
  // a text with a null in it can hide one, so only such a text is searched.
  if (text.includes("null")) assertFinite(value);
  const length = text.length;
  if (length > SHORT_TEXT) return encoder.encode(text);
  const bytes = allocate(length);
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0x7f) return encoder.encode(text);
    bytes[i] = unit;
  }
  return bytes;
}

// Walks the value as JSON.stringify does (toJSON included), tracking the path of each object.
function assertFinite(value: unknown): void {
  const paths = new WeakMap<object, string>();
  JSON.stringify(value, function (this: object, key: string, inner: unknown) {
    const parent = paths.get(this);
    const path = parent === undefined
      ? "$"
      : Array.isArray(this)
      ? `${parent}[${key}]`
      : `${parent}.${key}`;
    if (typeof inner === "number" && !Number.isFinite(inner)) {
      throw new RangeError(
        `Cannot encode ${inner} at ${path} as JSON: only finite numbers survive JSON (it would decode as null)`,
      );
    }
    if (inner !== null && typeof inner === "object") paths.set(inner, path);
    return inner;
  });
}

function fromBytes(bytes: Uint8Array): unknown {
  return JSON.parse(isShortAscii(bytes) ? asciiDecoder.decode(bytes) : decoder.decode(bytes));
}

function isShortAscii(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length > SHORT_TEXT) return false;
  for (let i = 0; i < length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

const jsonCodec: Binarize<unknown, unknown> = {
  eventToBytes: toBytes,
  eventFromBytes: fromBytes,
  stateToBytes: toBytes,
  stateFromBytes: fromBytes,
};
