/**
 * The outcome of a command that was handled: a reply, or a business rejection.
 *
 * @module
 */

/**
 * `{ ok: true, value }` for an accepted command, `{ ok: false, error }` for a rejected one.
 * Technical failures are not results: they reject the promise with a `HandleCommandError`.
 *
 * @example Narrow a result
 * ```ts
 * import type { Result } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const result: Result<number, string> = { ok: false, error: "Overflow" };
 * assert.equal(result.ok ? result.value : result.error, "Overflow");
 * ```
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: E;
};
