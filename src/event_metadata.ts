/**
 * Event metadata: why and for which request an event was written, set per command and stored
 * with each event it emits.
 *
 * @module
 */

import { isWellFormed, quote } from "./_validate.ts";

/**
 * Context of a command, stored with every event it emits and returned with each of them by
 * every read. All fields are optional; events written without metadata read back with `{}`.
 * Values must keep the limits in {@linkcode METADATA_LIMITS}, which every backend stores
 * exactly; anything else is refused with a TypeError or RangeError before any write.
 *
 * @example Metadata of a command and of the events it wrote
 * ```ts
 * import { emit, type EventMetadata, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const ref = await spawn(counter, "a", { eventLog, binarize: jsonBinarize() });
 * const metadata: EventMetadata = { commandId: "c-1", correlationId: "order-7", headers: { user: "ada" } };
 * await ref.handleCommand({ handleCommand: () => emit(1) }, { metadata });
 * for await (const event of eventLog.eventsById("counter", "a", 1)) {
 *   assert.deepEqual(event.metadata, metadata);
 * }
 * await ref.stop();
 * ```
 */
export interface EventMetadata {
  /**
   * Identifies the command: an entity that already persisted events of a command with this id
   * answers a repeat as a duplicate and writes nothing (see `deduplicationWindow` of `spawn`).
   */
  readonly commandId?: string;
  /** Ties together everything done for one request or business process. */
  readonly correlationId?: string;
  /** The id of the command or event that caused this one. */
  readonly causationId?: string;
  /** Further string pairs, such as a user or a trace context. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The limits on {@linkcode EventMetadata} that every backend stores exactly.
 *
 * - ids (`commandId`, `correlationId`, `causationId`): 1 to `maxIdLength` UTF-16 code units;
 * - at most `maxHeaders` headers, each name 1 to `maxHeaderNameLength` characters of
 *   A-Z, a-z, 0-9, `_`, `-` and `.` starting with a letter or digit, each value at most
 *   `maxHeaderValueLength` UTF-16 code units;
 * - every string well-formed (no lone surrogates) and free of control characters
 *   (U+0000–U+001F, U+007F).
 *
 * @example Check a value before sending it
 * ```ts
 * import { METADATA_LIMITS } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.ok(crypto.randomUUID().length <= METADATA_LIMITS.maxIdLength);
 * ```
 */
export const METADATA_LIMITS: {
  readonly maxIdLength: number;
  readonly maxHeaders: number;
  readonly maxHeaderNameLength: number;
  readonly maxHeaderValueLength: number;
} = Object.freeze({
  maxIdLength: 256,
  maxHeaders: 16,
  maxHeaderNameLength: 64,
  maxHeaderValueLength: 1024,
});

/** The metadata of an event written without any. */
export const EMPTY_METADATA: EventMetadata = Object.freeze({});

const ID_KEYS = ["commandId", "correlationId", "causationId"] as const;
const KNOWN_KEYS = new Set<string>([...ID_KEYS, "headers"]);
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

// Metadata objects this module built: frozen and checked, so a log handed one again (the core
// passes the same object for every event of a command) need not check it again.
const checked = new WeakSet<object>();

/**
 * Checks `value` (`undefined` or an {@linkcode EventMetadata}) and returns its canonical,
 * frozen form: only the fields given, headers sorted by name and left out when empty; `{}`
 * (the shared {@linkcode EMPTY_METADATA}) when there is nothing. `where` names the call for
 * the error message.
 */
export function readMetadata(where: string, value: unknown): EventMetadata {
  if (value === undefined) return EMPTY_METADATA;
  if (typeof value === "object" && value !== null && checked.has(value)) {
    return value as EventMetadata;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Invalid ${where} metadata ${quote(value)}: expected an object`);
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new TypeError(
        `Invalid ${where} metadata: unknown key ${
          quote(key)
        } (known: commandId, correlationId, causationId, headers)`,
      );
    }
  }
  const result: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {};
  for (const key of ID_KEYS) {
    const id = given[key];
    if (id === undefined) continue;
    assertText(where, key, id, 1, METADATA_LIMITS.maxIdLength);
    result[key] = id as string;
  }
  if (given.headers !== undefined) {
    const headers = readHeaders(where, given.headers);
    if (headers !== undefined) result.headers = headers;
  }
  if (Object.keys(result).length === 0) return EMPTY_METADATA;
  Object.freeze(result);
  checked.add(result);
  return result;
}

function readHeaders(where: string, value: unknown): Readonly<Record<string, string>> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Invalid ${where} metadata headers ${quote(value)}: expected an object of strings`,
    );
  }
  const names = Object.keys(value).sort();
  if (names.length === 0) return undefined;
  if (names.length > METADATA_LIMITS.maxHeaders) {
    throw new RangeError(
      `Invalid ${where} metadata headers: ${names.length} headers, at most ${METADATA_LIMITS.maxHeaders} allowed`,
    );
  }
  const headers: Record<string, string> = {};
  for (const name of names) {
    if (name.length > METADATA_LIMITS.maxHeaderNameLength || !HEADER_NAME.test(name)) {
      throw new TypeError(
        `Invalid ${where} metadata header name ${
          quote(name)
        }: expected 1 to ${METADATA_LIMITS.maxHeaderNameLength} characters of A-Z, a-z, 0-9, "_", "-" or ".", starting with a letter or digit`,
      );
    }
    const text = (value as Record<string, unknown>)[name];
    assertText(where, `header ${quote(name)}`, text, 0, METADATA_LIMITS.maxHeaderValueLength);
    headers[name] = text as string;
  }
  return Object.freeze(headers);
}

function assertText(where: string, what: string, text: unknown, min: number, max: number): void {
  if (typeof text !== "string") {
    throw new TypeError(`Invalid ${where} metadata ${what} ${quote(text)}: expected a string`);
  }
  if (text.length < min || text.length > max) {
    throw new RangeError(
      `Invalid ${where} metadata ${what} ${
        quote(text)
      }: ${text.length} characters, expected ${min} to ${max}`,
    );
  }
  if (CONTROL.test(text)) {
    throw new TypeError(
      `Invalid ${where} metadata ${what} ${
        quote(text)
      }: must not contain control characters (U+0000–U+001F, U+007F)`,
    );
  }
  if (!isWellFormed(text as string)) {
    throw new TypeError(
      `Invalid ${where} metadata ${what} ${quote(text)}: contains a lone UTF-16 surrogate`,
    );
  }
}

/** The largest version an event or snapshot can carry (PostgreSQL's `integer`). */
export const MAX_VERSION = 2_147_483_647;

/** Throws unless `version` is an integer from 1 to {@linkcode MAX_VERSION}; `what` names it. */
export function assertVersion(version: unknown, what: string): asserts version is number {
  if (
    typeof version !== "number" || !Number.isInteger(version) || version < 1 ||
    version > MAX_VERSION
  ) {
    throw new RangeError(
      `Invalid ${what} ${quote(version)}: expected an integer from 1 to ${MAX_VERSION}`,
    );
  }
}
