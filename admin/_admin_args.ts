// Argument checks of copyStore and verifyLog: each throws a TypeError or RangeError naming the
// argument and quoting the bad value, before anything is read or written.

import type { CallOptions, ReadOptions } from "../src/event_log.ts";
import { assertPositiveInteger, quote } from "../src/_validate.ts";
import type { StoreAdmin } from "./store_admin.ts";

const ADMIN_METHODS = ["entityTypes", "entityIds", "snapshots", "importEvents", "importSnapshot"];

/** Throws unless `value` looks like a {@linkcode StoreAdmin}. */
export function assertStoreAdmin(value: unknown, name: string): asserts value is StoreAdmin {
  const admin = value as Partial<Record<string, unknown>> | null;
  if (typeof admin !== "object" || admin === null) {
    throw new TypeError(`Invalid ${name} ${quote(value)}: expected a StoreAdmin`);
  }
  const missing = ADMIN_METHODS.find((method) => typeof admin[method] !== "function");
  if (missing !== undefined || typeof admin.eventLog !== "object" || admin.eventLog === null) {
    throw new TypeError(
      `Invalid ${name}: expected a StoreAdmin, missing ${quote(missing ?? "eventLog")}`,
    );
  }
}

/** Throws unless `options` is `undefined` or an object. */
export function assertOptions(options: unknown, name: string): void {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`Invalid ${name} ${quote(options)}: expected an object`);
  }
}

/** Throws unless `signal` is `undefined` or an AbortSignal. */
export function assertSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Invalid signal ${quote(signal)}: expected an AbortSignal`);
  }
}

/** Throws unless `value` is `undefined` or a function. */
export function assertCallback(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`Invalid ${name} ${quote(value)}: expected a function`);
  }
}

/** Throws unless `value` is `undefined` or a boolean. */
export function assertFlag(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`Invalid ${name} ${quote(value)}: expected a boolean`);
  }
}

/** Throws unless `value` is `undefined` or an integer from 1 to `max`. */
export function assertOptionalInteger(value: unknown, name: string, max: number): void {
  if (value === undefined) return;
  assertPositiveInteger(value, name);
  if (value > max) throw new RangeError(`Invalid ${name} ${quote(value)}: at most ${max}`);
}

/** The read options carrying the call's signal (a read takes no `signal: undefined`). */
export function readOptions(options: CallOptions): ReadOptions {
  return options.signal === undefined ? {} : { signal: options.signal };
}
