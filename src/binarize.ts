/**
 * Conversion of events and states to and from bytes, and the JSON codec.
 *
 * @module
 */

import { allocate } from "./_slab.ts";
import { anyValue, type OptionRules, readOptions } from "./_options.ts";
import {
  assertReadable,
  isRecord,
  missingStep,
  readChain,
  stepFailed,
  type VersionChain,
} from "./_upcast.ts";

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
 * Options of {@linkcode jsonBinarize}: the versions of the events' and states' shapes and the
 * functions that bring an older shape up to date ("upcasters").
 *
 * `upcast[k]` turns a decoded version-k value into the version-(k+1) one, so reading a version-k
 * event applies `upcast[k]`, `upcast[k + 1]`, … `upcast[version − 1]` in order. A step may be
 * left out when no data of that version exists: reading such data then throws (an entity or
 * reader wraps it into a `DecodeError`; the entity passes an unreadable snapshot over).
 *
 * @example Rename a field, then add one with a default
 * ```ts
 * import { jsonBinarize, type JsonBinarizeOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * type Deposited = { type: "deposited"; cents: number; currency: string };
 * const options: JsonBinarizeOptions = {
 *   version: 3,
 *   upcast: {
 *     1: ({ amount, ...rest }) => ({ ...rest, cents: amount }), // v1 said "amount"
 *     2: (v2) => ({ ...v2, currency: "EUR" }), // v2 had no currency
 *   },
 * };
 * const binarize = jsonBinarize<Deposited, unknown>(options);
 * const v1 = new TextEncoder().encode('{"type":"deposited","amount":500}');
 * assert.deepEqual(binarize.eventFromBytes(v1, 1), { type: "deposited", cents: 500, currency: "EUR" });
 * assert.equal(binarize.eventVersion, 3);
 * assert.throws(() => binarize.eventFromBytes(v1, 4), /version 4/);
 * ```
 */
export interface JsonBinarizeOptions {
  /** The version of the events' shape this codec writes, 1 to `MAX_VERSION`; default 1. */
  version?: number | undefined;
  /** `upcast[k]` turns a version-k event into a version-(k+1) one; keys 1 to `version` − 1. */
  // deno-lint-ignore no-explicit-any
  upcast?: Readonly<Record<number, (value: any) => unknown>> | undefined;
  /** The version of the states' shape this codec writes in snapshots; default 1. */
  stateVersion?: number | undefined;
  /** `stateUpcast[k]` turns a version-k state into a version-(k+1) one; keys 1 to `stateVersion` − 1. */
  // deno-lint-ignore no-explicit-any
  stateUpcast?: Readonly<Record<number, (value: any) => unknown>> | undefined;
}

/**
 * The JSON codec: UTF-8 JSON for events and states. Values must survive `JSON.stringify`
 * (no `undefined`, `bigint`, `Map` or class instances); a value that encodes to nothing throws,
 * and so does a non-finite number (`NaN`, `Infinity`, `-Infinity`), naming its path, since
 * JSON would turn it into `null`. An entity whose event fails so fails the command with reason
 * `"encode-failed"`, before anything is written.
 *
 * With {@linkcode JsonBinarizeOptions} the codec declares the version of its events and states
 * (stored with each of them) and reads older ones through upcasters; a version newer than it
 * knows, or one without its upcaster, throws. Without options it is one shared codec of
 * version 1.
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
 *
 * @example Replay version-1 events written by older code through an upcaster
 * ```ts
 * import { jsonBinarize, MemoryEventLog, reply, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * // Version 1 of the code wrote plain numbers.
 * await eventLog.persist("counter", "a", null, [2, 3].map((n) => jsonBinarize().eventToBytes(n)));
 *
 * // Version 2 writes { by } objects and reads the numbers as such.
 * type Event = { by: number };
 * const binarize = jsonBinarize<Event, number>({ version: 2, upcast: { 1: (by: number) => ({ by }) } });
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, e: Event) => s + e.by };
 * const ref = await spawn(counter, "a", { eventLog, binarize });
 * const total = await ref.handleCommand({ handleCommand: (_id, state: number) => reply(state) });
 * assert.deepEqual(total, { ok: true, value: 5 });
 * await ref.stop();
 * ```
 */
export function jsonBinarize<Event, State>(options?: JsonBinarizeOptions): Binarize<Event, State> {
  if (options === undefined) return jsonCodec as Binarize<Event, State>;
  const read = readOptions("jsonBinarize", options, jsonRules);
  const events = readChain(
    "jsonBinarize",
    "event",
    "version",
    read.version,
    "upcast",
    read.upcast,
    isFunction,
    "a function",
  );
  const states = readChain(
    "jsonBinarize",
    "state",
    "stateVersion",
    read.stateVersion,
    "stateUpcast",
    read.stateUpcast,
    isFunction,
    "a function",
  );
  return {
    eventToBytes: toBytes,
    eventFromBytes: versionedFromBytes(events),
    stateToBytes: toBytes,
    stateFromBytes: versionedFromBytes(states),
    eventVersion: events.current,
    stateVersion: states.current,
  } as Binarize<Event, State>;
}

type Upcaster = (value: unknown) => unknown;

const isFunction = (value: unknown): value is Upcaster => typeof value === "function";

const jsonRules: OptionRules<JsonBinarizeOptions> = {
  version: anyValue(undefined),
  upcast: {
    default: undefined,
    valid: isRecord,
    expected: "an object of upcasters by version",
  },
  stateVersion: anyValue(undefined),
  stateUpcast: {
    default: undefined,
    valid: isRecord,
    expected: "an object of upcasters by version",
  },
};

// The current version decodes as fromBytes does, with its body written out: one call less
// keeps it as fast as the shared codec (see bench/README.md). An older version is checked,
// decoded once, then passed through its steps.
function versionedFromBytes(
  chain: VersionChain<Upcaster>,
): (bytes: Uint8Array, version?: number) => unknown {
  const current = chain.current;
  return (bytes, version) => {
    if (version !== undefined && version !== current) return upcastFromBytes(chain, bytes, version);
    return JSON.parse(isShortAscii(bytes) ? asciiDecoder.decode(bytes) : decoder.decode(bytes));
  };
}

function upcastFromBytes(chain: VersionChain<Upcaster>, bytes: Uint8Array, version: number) {
  assertReadable(chain, version);
  let value = fromBytes(bytes);
  const { steps, current } = chain;
  let k = version;
  try {
    for (; k < current; k++) {
      const step = steps[k];
      if (step === undefined) break;
      value = step(value);
    }
  } catch (cause) {
    throw stepFailed(chain, k, cause);
  }
  if (k < current) throw missingStep(chain, k);
  return value;
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
