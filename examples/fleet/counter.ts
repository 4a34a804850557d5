// The counter of the fleet examples: increase and decrease with overflow and underflow
// rejections, and a read that emits nothing; and its commands by name (`counterCommands`), so
// an EntityClient anywhere (a server, a Worker, a browser page) can send them to the
// EntityHost that owns the counter. Pure core, so it runs wherever the core runs.

import {
  type Command,
  type CommandEffect,
  commandSet,
  emitAndReply,
  type EventSourced,
  reject,
  reply,
} from "../../mod.ts";

export type CounterEvent = { type: "increased"; by: number } | { type: "decreased"; by: number };
export type CounterError = "Overflow" | "Underflow";
type Effect<Reply> = CommandEffect<number, CounterEvent, Reply, CounterError>;

/** Largest value a counter may hold, and the largest step. */
export const MAX = 1_000_000;

export const counter: EventSourced<number, CounterEvent> = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (state, event) => event.type === "increased" ? state + event.by : state - event.by,
};

/**
 * Checks a step before any command is built: an integer from 1 to MAX. A payload from another
 * process is untrusted, so the host checks it too (a thrown error is the caller's
 * "bad-payload", and nothing is written).
 */
export function checkStep(by: unknown): number {
  if (typeof by !== "number" || !Number.isSafeInteger(by) || by < 1 || by > MAX) {
    throw new RangeError(
      `Invalid step ${JSON.stringify(by)}: expected an integer from 1 to ${MAX}`,
    );
  }
  return by;
}

export function increase(by: number): Command<number, CounterEvent, number, CounterError> {
  checkStep(by);
  return {
    handleCommand: (_id, state): Effect<number> =>
      state + by > MAX ? reject("Overflow") : emitAndReply({ type: "increased", by }, (s) => s),
  };
}

export function decrease(by: number): Command<number, CounterEvent, number, CounterError> {
  checkStep(by);
  return {
    handleCommand: (_id, state): Effect<number> =>
      state - by < 0 ? reject("Underflow") : emitAndReply({ type: "decreased", by }, (s) => s),
  };
}

export const get: Command<number, CounterEvent, number, never> = {
  handleCommand: (_id, state) => reply(state),
};

/** The counter's commands by name: the payload of increase and decrease is the step. */
export const counterCommands = commandSet(counter, {
  increase,
  decrease,
  get: () => get,
});

/** The entity types of the fleet, for a typed `EntityClient<CounterTypes>`. */
export type CounterTypes = { counter: typeof counterCommands };
