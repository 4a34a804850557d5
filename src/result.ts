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
 * function describe(result: Result<number, string>): string {
 *   return result.ok ? `reply ${result.value}` : `rejected: ${result.error}`;
 * }
 * assert.equal(describe({ ok: false, error: "Overflow" }), "rejected: Overflow");
 * assert.equal(describe({ ok: true, value: 3 }), "reply 3");
 * ```
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: E;
};
