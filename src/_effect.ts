// A command handler's return value is user input: it may be built by hand, without the
// emitAndReply/emit/reply/reject helpers. These checks say what is wrong with one before
// anything is encoded or written, so `{ type: "emit", events: "abc" }` never persists "a", "b"
// and "c".

import { quote } from "./_validate.ts";

const HELPERS = "build effects with emitAndReply, emit, reply or reject";

/** Whether an emit effect's `events` and `makeReply` have the right shape. */
export function isValidEmit(events: unknown, makeReply: unknown): boolean {
  return Array.isArray(events) && (makeReply === undefined || typeof makeReply === "function");
}

/** What is wrong with `effect`, which is not a valid effect; for the error message. */
export function effectProblem(effect: unknown): string {
  if (effect === null || typeof effect !== "object") {
    return `returned ${describe(effect)} instead of an effect (${HELPERS})`;
  }
  const { type, events, makeReply } = effect as Record<string, unknown>;
  if (type !== "emit") {
    return `returned an effect of type ${
      describe(type)
    }, expected "emit", "reply" or "reject" (${HELPERS})`;
  }
  if (!Array.isArray(events)) {
    return `returned an emit effect whose events is ${
      describe(events)
    }, expected an array of events (${HELPERS}); nothing was written`;
  }
  return `returned an emit effect whose makeReply is ${
    describe(makeReply)
  }, expected a function or undefined; nothing was written`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${quote(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  return typeof value;
}
