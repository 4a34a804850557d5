// The counter of the edge examples: increase and decrease with overflow and underflow
// rejections, and a read that emits nothing. Pure core, so it runs wherever the core runs.

import {
  type Command,
  type CommandEffect,
  emitAndReply,
  type EventSourced,
  reject,
  reply,
} from "../../mod.ts";

export type CounterEvent = { type: "increased"; by: number } | { type: "decreased"; by: number };
export type CounterError = "Overflow" | "Underflow";
type Effect<Reply> = CommandEffect<number, CounterEvent, Reply, CounterError>;

/** Largest value a counter may hold. */
export const MAX = 1_000_000;

export const counter: EventSourced<number, CounterEvent> = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (state, event) => event.type === "increased" ? state + event.by : state - event.by,
};

export function increase(by: number): Command<number, CounterEvent, number, CounterError> {
  return {
    handleCommand: (_id, state): Effect<number> =>
      state + by > MAX ? reject("Overflow") : emitAndReply({ type: "increased", by }, (s) => s),
  };
}

export function decrease(by: number): Command<number, CounterEvent, number, CounterError> {
  return {
    handleCommand: (_id, state): Effect<number> =>
      state - by < 0 ? reject("Underflow") : emitAndReply({ type: "decreased", by }, (s) => s),
  };
}

export const get: Command<number, CounterEvent, number, never> = {
  handleCommand: (_id, state) => reply(state),
};
