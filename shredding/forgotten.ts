/**
 * The values a reader gets in place of personal data whose key was deleted.
 *
 * @module
 */

/**
 * An event (or state) whose personal data was forgotten as a whole: what an entity's
 * `handleEvent`, a reader or a projection gets in place of an event written by a codec of
 * `shreddingBinarize` with `events: "whole"` once its entity was forgotten. The one instance is
 * {@linkcode FORGOTTEN_EVENT}; branch on it with {@linkcode isForgotten}.
 *
 * @example Branch on a forgotten event
 * ```ts
 * import { Forgotten, FORGOTTEN_EVENT, isForgotten } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const event: { type: "renamed"; name: string } | Forgotten = FORGOTTEN_EVENT;
 * assert.ok(isForgotten(event) && event instanceof Forgotten);
 * ```
 */
export class Forgotten {
  /** Always `true`: what a JSON copy of this value keeps. */
  readonly forgotten = true as const;

  /** The text of the value, for logs. */
  toString(): string {
    return "[forgotten]";
  }
}

/**
 * The frozen value a whole event reads as once its entity was forgotten.
 *
 * @example Compare with it
 * ```ts
 * import { FORGOTTEN_EVENT, isForgotten } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Object.isFrozen(FORGOTTEN_EVENT) && isForgotten(FORGOTTEN_EVENT));
 * ```
 */
export const FORGOTTEN_EVENT: Forgotten = Object.freeze(new Forgotten());

/**
 * The default value of a personal field once its entity was forgotten: a string, so that it
 * survives a JSON snapshot and reads the same after, and fits a field typed `string`. Give a
 * replacement per field (`events: { email: "" }`) where a field is not a string.
 *
 * @example The marker in a forgotten field
 * ```ts
 * import { FORGOTTEN, isForgotten } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * const event = { type: "registered", email: FORGOTTEN };
 * assert.ok(isForgotten(JSON.parse(JSON.stringify(event)).email));
 * ```
 */
export const FORGOTTEN = "\u2039forgotten\u203a" as const;

/**
 * Whether `value` is forgotten personal data: {@linkcode FORGOTTEN_EVENT} (or any
 * {@linkcode Forgotten}) or the field marker {@linkcode FORGOTTEN}.
 *
 * @example Check an event and a field
 * ```ts
 * import { FORGOTTEN, FORGOTTEN_EVENT, isForgotten } from "@eventsourced/eventsourced/shredding";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isForgotten(FORGOTTEN_EVENT));
 * assert.ok(isForgotten(FORGOTTEN));
 * assert.ok(!isForgotten("alice@example.com"));
 * ```
 */
export function isForgotten(value: unknown): value is Forgotten | typeof FORGOTTEN {
  return value instanceof Forgotten || value === FORGOTTEN;
}
