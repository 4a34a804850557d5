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

/**
 * The answer to a command whose `commandId` the entity already persisted events for (within
 * its `deduplicationWindow`): nothing was written or applied this time. Its reply is not known
 * any more; `seqNo` is the last event the earlier command wrote. Only a call that passes a
 * `commandId` can get one.
 *
 * @example A retried command is answered as a duplicate
 * ```ts
 * import { type Duplicate, emitAndReply, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize: jsonBinarize() });
 * const add = { handleCommand: () => emitAndReply(5, (s: number) => s) };
 * const options = { metadata: { commandId: "add-5" } };
 * assert.deepEqual(await ref.handleCommand(add, options), { ok: true, value: 5 });
 * const again = await ref.handleCommand(add, options);
 * const expected: Duplicate = { ok: true, duplicate: true, value: undefined, seqNo: 1 };
 * assert.deepEqual(again, expected);
 * await ref.stop();
 * ```
 */
export interface Duplicate {
  /** The command took effect, earlier. */
  readonly ok: true;
  /** Discriminant: the command was not applied again. */
  readonly duplicate: true;
  /** The earlier reply is not kept. */
  readonly value: undefined;
  /** The seqNo of the last event the earlier command wrote. */
  readonly seqNo: number;
}
