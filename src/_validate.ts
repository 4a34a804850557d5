// Argument checks shared by the runtime, the memory store and the adapters. Each throws a
// TypeError or RangeError that names the argument and quotes the bad value, before any I/O.

import { StorageError } from "./errors.ts";

const TYPE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The longest id (in UTF-16 code units) that every backend stores. */
export const MAX_ID_LENGTH = 256;

/** Quotes a value for an error message, cut short when long. */
export function quote(value: unknown): string {
  if (typeof value !== "string") return String(value);
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}

/** Throws unless `typeName` matches `/^[A-Za-z0-9_-]{1,64}$/`. */
export function assertTypeName(typeName: unknown): asserts typeName is string {
  if (typeof typeName !== "string" || !TYPE_NAME.test(typeName)) {
    throw new TypeError(
      `Invalid typeName ${
        quote(typeName)
      }: expected 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"`,
    );
  }
}

/**
 * Throws unless `id` is a non-empty, well-formed string of at most {@link MAX_ID_LENGTH}
 * UTF-16 code units without NUL (which PostgreSQL text cannot hold).
 */
export function assertId(id: unknown): asserts id is string {
  if (typeof id !== "string") {
    throw new TypeError(`Invalid id ${quote(id)}: expected a string`);
  }
  if (id.length === 0) throw new TypeError(`Invalid id "": expected a non-empty string`);
  if (id.length > MAX_ID_LENGTH) {
    throw new RangeError(
      `Invalid id ${quote(id)}: ${id.length} characters, at most ${MAX_ID_LENGTH} allowed`,
    );
  }
  if (id.includes("\u0000")) {
    throw new TypeError(`Invalid id ${quote(id)}: must not contain NUL (U+0000)`);
  }
  if (!isWellFormed(id)) {
    throw new TypeError(`Invalid id ${quote(id)}: contains a lone UTF-16 surrogate`);
  }
}

/** Whether `text` has no lone UTF-16 surrogate. */
export function isWellFormed(text: string): boolean {
  // Native where the runtime has it (Node 20, Deno, Bun); the loop is for older ones.
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === "function") return native.call(text);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Throws unless `value` is an integer ≥ 1. */
export function assertPositiveInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name} ${quote(value)}: expected a positive integer`);
  }
}

/** Throws unless `value` is an integer ≥ 0. */
export function assertNonNegativeInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${name} ${quote(value)}: expected an integer ≥ 0`);
  }
}

/** Throws unless `lastSeqNo` is `null` or a positive integer. */
export function assertLastSeqNo(lastSeqNo: unknown): asserts lastSeqNo is number | null {
  if (lastSeqNo !== null) assertPositiveInteger(lastSeqNo, "lastSeqNo");
}

/** Throws unless `events` is a non-empty array of `Uint8Array`. */
export function assertEventBytes(events: unknown): asserts events is readonly Uint8Array[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw new TypeError("Invalid events: expected a non-empty array of Uint8Array");
  }
  for (let i = 0; i < events.length; i++) {
    if (!(events[i] instanceof Uint8Array)) {
      throw new TypeError(`Invalid events[${i}]: expected a Uint8Array, got ${typeof events[i]}`);
    }
  }
}

/** The default largest event, in bytes, that a log of this package takes: 4 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024;

/**
 * Checks the arguments of `EventLog.persist` in one place for every log: type name, id, last
 * seqNo, events (each at most `maxEventBytes`, when given) and the signal. Throws before any
 * write; the size check throws a StorageError with reason "too-large".
 */
export function assertPersistArguments(
  typeName: unknown,
  id: unknown,
  lastSeqNo: unknown,
  events: unknown,
  maxEventBytes: number | undefined,
  signal: AbortSignal | undefined,
): asserts events is readonly Uint8Array[] {
  assertTypeName(typeName);
  assertId(id);
  assertPersistPayload(typeName, id, lastSeqNo, events, maxEventBytes, signal);
}

/**
 * The checks of {@linkcode assertPersistArguments} after the names: for a log that already
 * checked `typeName` and `id` (an entity it holds), so its hot path does not check them again.
 */
export function assertPersistPayload(
  typeName: string,
  id: string,
  lastSeqNo: unknown,
  events: unknown,
  maxEventBytes: number | undefined,
  signal: AbortSignal | undefined,
): asserts events is readonly Uint8Array[] {
  assertLastSeqNo(lastSeqNo);
  assertEventBytes(events);
  if (maxEventBytes !== undefined) {
    for (let i = 0; i < events.length; i++) {
      const size = events[i]!.byteLength;
      if (size > maxEventBytes) {
        throw new StorageError(
          `Cannot persist events for "${typeName}/${id}": events[${i}] has ${size} bytes, more than maxEventBytes (${maxEventBytes}); nothing was written`,
          { reason: "too-large" },
        );
      }
    }
  }
  throwIfAborted(signal);
}

/** Throws the signal's reason when it is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
