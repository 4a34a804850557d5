/**
 * The codec wrapper of crypto-shredding: which parts of events and states are personal.
 *
 * @module
 */

import type { Binarize } from "../src/binarize.ts";
import { quote } from "../src/_validate.ts";
import {
  FALLBACK,
  isEnvelope,
  Personal,
  readEnvelope,
  SNAPSHOT,
  WHOLE,
  writeEnvelope,
} from "./_envelope.ts";
import { FORGOTTEN, type Forgotten, FORGOTTEN_EVENT } from "./forgotten.ts";

/**
 * What is personal in an event or a state:
 * - `"whole"`: all of it; forgotten, an event reads as `FORGOTTEN_EVENT`, a state as the
 *   `forgottenState` option.
 * - field names: those top-level fields; forgotten, each reads as `FORGOTTEN`.
 * - an object of field names to replacements: those fields; forgotten, each reads as its
 *   replacement (for fields that are not strings, e.g. `{ birthYear: 0 }`).
 * - `"none"`: nothing (stored in clear).
 *
 * @example Personal fields with a replacement each
 * ```ts
 * import type { PersonalData } from "@eventsourced/eventsourced/shredding";
 *
 * const personal: PersonalData = { email: "", birthYear: 0 };
 * ```
 */
export type PersonalData =
  | "whole"
  | "none"
  | readonly string[]
  | Readonly<Record<string, unknown>>;

/**
 * Options of {@linkcode shreddingBinarize}. `events` and `states` are both required, so that a
 * state holding what the events' personal fields said is not stored in clear by oversight.
 *
 * @example Personal fields in events and states
 * ```ts
 * import type { ShreddingBinarizeOptions } from "@eventsourced/eventsourced/shredding";
 *
 * type State = { name: string; visits: number };
 * const options: ShreddingBinarizeOptions<State> = { events: ["name"], states: ["name"] };
 * ```
 */
export interface ShreddingBinarizeOptions<State> {
  /** What is personal in the events. */
  events: PersonalData;
  /** What is personal in the states of snapshots. */
  states: PersonalData;
  /**
   * With `states: "whole"`: the state an entity recovers from when its snapshot's state was
   * forgotten. Without it, loading such a snapshot fails with an error naming the entity
   * (the events up to the snapshot may have been deleted, so it is never passed over).
   */
  forgottenState?: State;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How one kind of value (events or states) is split. */
interface Split {
  readonly whole: boolean;
  readonly none: boolean;
  /** Personal field names to the value each reads as once forgotten. */
  readonly fields: ReadonlyMap<string, unknown>;
}

/**
 * Wraps `inner` so that the personal parts of events and states are kept apart, for the log
 * and snapshot store of {@linkcode cryptoShredding} to encrypt them with the entity's key. It
 * writes an envelope: the inner codec's bytes of the event without its personal fields (or
 * nothing, when the whole event is personal), and the personal part, in clear until the log
 * layer encrypts it. Personal fields are encoded as JSON, so their values must survive
 * `JSON.stringify`; the events and states must be objects when fields are personal.
 *
 * Reading: the personal part the log layer decrypted is merged back; one whose key is gone
 * reads as forgotten (`FORGOTTEN_EVENT`, the field's replacement, or `forgottenState`); one
 * still encrypted (read through a log without the shredding layer) throws, saying so. Bytes
 * written before the codec was wrapped are read by `inner` as they are.
 *
 * Versions and upcasters: the version is the inner codec's. With `"whole"` the inner codec's
 * upcasters see the whole event (or `FORGOTTEN_EVENT` is returned without them). With personal
 * fields they see the event without its personal fields, which are merged after them under the
 * names they were written with: keep a personal field's name across versions.
 *
 * @example Keep a field apart, and read it forgotten
 * ```ts
 * import { jsonBinarize } from "@eventsourced/eventsourced";
 * import { FORGOTTEN, shreddingBinarize } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * type Event = { type: "registered"; email: string; plan: string };
 * const binarize = shreddingBinarize(jsonBinarize<Event, number>(), {
 *   events: ["email"],
 *   states: "none",
 * });
 * const bytes = binarize.eventToBytes({ type: "registered", email: "a@example.com", plan: "pro" });
 * // Unencrypted, the envelope is read back as written; the log layer encrypts it.
 * assert.deepEqual(binarize.eventFromBytes(bytes), {
 *   type: "registered",
 *   plan: "pro",
 *   email: "a@example.com",
 * });
 * assert.equal(FORGOTTEN, "\u2039forgotten\u203a");
 * ```
 */
export function shreddingBinarize<Event, State>(
  inner: Binarize<Event, State>,
  options: ShreddingBinarizeOptions<State> & { events: "whole" },
): Binarize<Event | Forgotten, State>;
export function shreddingBinarize<Event, State>(
  inner: Binarize<Event, State>,
  options: ShreddingBinarizeOptions<State>,
): Binarize<Event, State>;
export function shreddingBinarize<Event, State>(
  inner: Binarize<Event, State>,
  options: ShreddingBinarizeOptions<State>,
): Binarize<Event | Forgotten, State> {
  assertInner(inner);
  if (typeof options !== "object" || options === null) {
    throw new TypeError("shreddingBinarize: options must be an object with `events` and `states`");
  }
  for (const key of Object.keys(options)) {
    if (key !== "events" && key !== "states" && key !== "forgottenState") {
      throw new TypeError(`shreddingBinarize: unknown option ${quote(key)}`);
    }
  }
  const events = readSplit("events", options.events);
  const states = readSplit("states", options.states);
  if (events.none && states.none) {
    throw new TypeError(
      'shreddingBinarize: `events` and `states` are both "none": nothing is personal',
    );
  }
  const hasFallback = "forgottenState" in options && options.forgottenState !== undefined;
  if (hasFallback && !states.whole) {
    throw new TypeError('shreddingBinarize: `forgottenState` is only used with `states: "whole"`');
  }
  const stateFlags = SNAPSHOT | (hasFallback ? FALLBACK : 0);
  return {
    eventVersion: inner.eventVersion,
    stateVersion: inner.stateVersion,
    eventToBytes: (event) =>
      encode("event", events, 0, event, (value) => inner.eventToBytes(value as Event)),
    eventFromBytes: (bytes, version) => {
      if (!isEnvelope(bytes)) return inner.eventFromBytes(bytes, version);
      return decode(
        "event",
        events,
        bytes,
        (b): Event | Forgotten => inner.eventFromBytes(b, version),
        () => FORGOTTEN_EVENT,
      );
    },
    stateToBytes: (state) =>
      encode("state", states, stateFlags, state, (value) => inner.stateToBytes(value as State)),
    stateFromBytes: (bytes, version) => {
      if (!isEnvelope(bytes)) return inner.stateFromBytes(bytes, version);
      return decode("state", states, bytes, (b) => inner.stateFromBytes(b, version), () => {
        if (hasFallback) return options.forgottenState as State;
        throw new Error(
          "shreddingBinarize: the snapshot's state was forgotten and no `forgottenState` is given",
        );
      });
    },
  };
}

function encode(
  kind: string,
  split: Split,
  flags: number,
  value: unknown,
  innerToBytes: (value: unknown) => Uint8Array,
): Uint8Array {
  const none = new Uint8Array(0);
  if (split.none) return writeEnvelope(flags, Personal.None, innerToBytes(value), [], none);
  if (split.whole) {
    return writeEnvelope(flags | WHOLE, Personal.Clear, none, [], innerToBytes(value));
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `shreddingBinarize: an ${kind} must be an object to have personal fields, got ${
        value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
      }`,
    );
  }
  const rest: Record<string, unknown> = {};
  const personal: Record<string, unknown> = {};
  const names: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (!split.fields.has(key)) rest[key] = field;
    else if (field !== undefined) {
      assertJson(kind, key, field);
      personal[key] = field;
      names.push(key);
    }
  }
  const publicBytes = innerToBytes(rest);
  if (names.length === 0) return writeEnvelope(flags, Personal.None, publicBytes, [], none);
  const personalBytes = encoder.encode(JSON.stringify(personal));
  return writeEnvelope(flags, Personal.Clear, publicBytes, names, personalBytes);
}

function decode<Value>(
  kind: string,
  split: Split,
  bytes: Uint8Array,
  innerFromBytes: (bytes: Uint8Array) => Value,
  forgottenWhole: () => Value,
): Value {
  const envelope = readEnvelope(bytes);
  if (envelope.personal === Personal.Sealed) {
    throw new Error(
      `shreddingBinarize: the ${kind}'s personal data is still encrypted: read it through the ` +
        "event log or snapshot store of cryptoShredding(), which decrypts it",
    );
  }
  if ((envelope.flags & WHOLE) !== 0) {
    return envelope.personal === Personal.Forgotten
      ? forgottenWhole()
      : innerFromBytes(envelope.personalBytes);
  }
  const value = innerFromBytes(envelope.publicBytes);
  if (envelope.personal === Personal.None) return value;
  if (typeof value !== "object" || value === null) {
    throw new Error(`shreddingBinarize: the ${kind}'s public part did not decode to an object`);
  }
  if (envelope.personal === Personal.Forgotten) {
    const merged: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const name of envelope.names) {
      merged[name] = split.fields.has(name) ? split.fields.get(name) : FORGOTTEN;
    }
    return merged as Value;
  }
  const personal: unknown = JSON.parse(decoder.decode(envelope.personalBytes));
  return { ...value, ...(personal as Record<string, unknown>) } as Value;
}

function readSplit(option: string, personal: unknown): Split {
  const empty = new Map<string, unknown>();
  if (personal === "whole") return { whole: true, none: false, fields: empty };
  if (personal === "none") return { whole: false, none: true, fields: empty };
  const fields = new Map<string, unknown>();
  if (Array.isArray(personal)) {
    for (const name of personal) {
      if (typeof name !== "string" || name === "") {
        throw new TypeError(
          `shreddingBinarize: \`${option}\` holds ${quote(name)}, not a field name`,
        );
      }
      fields.set(name, FORGOTTEN);
    }
  } else if (typeof personal === "object" && personal !== null) {
    for (const [name, replacement] of Object.entries(personal)) fields.set(name, replacement);
  } else {
    throw new TypeError(
      `shreddingBinarize: \`${option}\` must be "whole", "none", field names or an object of ` +
        `field names to replacements, got ${quote(personal)}`,
    );
  }
  if (fields.size === 0) {
    throw new TypeError(`shreddingBinarize: \`${option}\` names no field (say "none" instead)`);
  }
  return { whole: false, none: false, fields };
}

function assertJson(kind: string, key: string, field: unknown): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(field, (_k, v) => {
      if (typeof v === "number" && !Number.isFinite(v)) throw new TypeError(`${v}`);
      return v;
    });
  } catch (error) {
    throw new TypeError(
      `shreddingBinarize: the ${kind}'s personal field ${quote(key)} is not JSON (${error})`,
    );
  }
  if (text === undefined) {
    throw new TypeError(
      `shreddingBinarize: the ${kind}'s personal field ${quote(key)} is not JSON`,
    );
  }
}

function assertInner(inner: unknown): void {
  const missing = ["eventToBytes", "eventFromBytes", "stateToBytes", "stateFromBytes"].filter(
    (name) => typeof (inner as Record<string, unknown> | null)?.[name] !== "function",
  );
  if (missing.length > 0) {
    throw new TypeError(`shreddingBinarize: the inner codec lacks ${missing.join(", ")}`);
  }
}
