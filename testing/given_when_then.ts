/**
 * Given/When/Then for an entity's command handling, without I/O: given past events, when a
 * command arrives, then these events are emitted and this reply or rejection comes back.
 *
 * @module
 */

import { readOptions, stringOption } from "../src/_options.ts";
import { effectProblem, isValidEmit } from "../src/_effect.ts";
import assert from "node:assert/strict";
import type { Command } from "../src/command.ts";
import type { EventSourced } from "../src/event_sourced.ts";
import type { Result } from "../src/result.ts";
import { type EventMetadata, readMetadata } from "../src/event_metadata.ts";

/**
 * What a command did, as {@linkcode Given.when} computes it.
 *
 * @example Look at an outcome
 * ```ts
 * import { emitAndReply } from "@eventsourced/eventsourced";
 * import { given, type Outcome } from "@eventsourced/eventsourced/testing";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const outcome: Outcome<number, number, number, never> = given(counter, [2])
 *   .when({ handleCommand: () => emitAndReply(3, (s: number) => s) });
 * assert.deepEqual(outcome.events, [3]);
 * assert.equal(outcome.state, 5);
 * ```
 */
export interface Outcome<State, Event, Reply, Error> {
  /** The events the command emitted (empty for a reply or a rejection). */
  readonly events: readonly Event[];
  /** The reply or the rejection. */
  readonly result: Result<Reply, Error>;
  /** The state after the emitted events. */
  readonly state: State;
  /**
   * Asserts the expected parts of the outcome (`events`, `reply`, `error`, `state`) with deep
   * equality and returns the outcome; throws an `AssertionError` naming the first mismatch.
   */
  then(expected: Expected<State, Event, Reply, Error>): Outcome<State, Event, Reply, Error>;
}

/**
 * The parts of an outcome to check; omitted parts are not checked.
 *
 * @example Check only the reply
 * ```ts
 * import { reply } from "@eventsourced/eventsourced";
 * import { type Expected, given } from "@eventsourced/eventsourced/testing";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const expected: Expected<number, number, number, never> = { reply: 3 };
 * given(counter, [1, 2]).when({ handleCommand: (_id: string, s: number) => reply(s) }).then(expected);
 * ```
 */
export interface Expected<State, Event, Reply, Error> {
  /** The emitted events. */
  events?: readonly Event[];
  /** The reply of an accepted command. */
  reply?: Reply;
  /** The error of a rejected command. */
  error?: Error;
  /** The state after the events. */
  state?: State;
}

/**
 * The past of an entity, ready for a command.
 *
 * @example The state after the given events
 * ```ts
 * import { type Given, given } from "@eventsourced/eventsourced/testing";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * const past: Given<number, number> = given(counter, [1, 2, 3]);
 * assert.equal(past.state, 6);
 * ```
 */
export interface Given<State, Event> {
  /** The state after the given events. */
  readonly state: State;
  /**
   * Runs the command's handler on the state (with `metadata`, default none, as the handler's
   * third argument), applies what it emits, and returns the outcome.
   */
  when<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    metadata?: EventMetadata,
  ): Outcome<State, Event, Reply, Error>;
}

/**
 * Starts a Given/When/Then test: `entity` with `events` already applied (for entity `id`,
 * default `"test"`). No event log, no codec, no async.
 *
 * @example Test a rejection and an accepted command
 * ```ts
 * import { emitAndReply, reject } from "@eventsourced/eventsourced";
 * import { given } from "@eventsourced/eventsourced/testing";
 *
 * const account = {
 *   typeName: "account",
 *   initialState: 0,
 *   handleEvent: (balance: number, event: { amount: number }) => balance + event.amount,
 * };
 * const withdraw = (amount: number) => ({
 *   handleCommand: (_id: string, balance: number) =>
 *     balance < amount
 *       ? reject("InsufficientFunds")
 *       : emitAndReply({ amount: -amount }, (newBalance: number) => newBalance),
 * });
 *
 * given(account, [{ amount: 10 }]).when(withdraw(20)).then({ events: [], error: "InsufficientFunds" });
 * given(account, [{ amount: 10 }]).when(withdraw(4)).then({ events: [{ amount: -4 }], reply: 6, state: 6 });
 * ```
 */
export function given<State, Event>(
  entity: EventSourced<State, Event>,
  events: readonly Event[] = [],
  options?: { id?: string },
): Given<State, Event> {
  const id = readOptions("given", options, { id: stringOption("test") }).id!;
  const state = events.reduce((s, e) => entity.handleEvent(s, e), entity.initialState);
  const when = <Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    metadata?: EventMetadata,
  ): Outcome<State, Event, Reply, Error> => {
    const effect = command.handleCommand(id, state, readMetadata("when", metadata));
    // A hand-built effect of the wrong shape fails here as it fails the entity.
    if (
      effect?.type !== "reply" && effect?.type !== "reject" &&
      (effect?.type !== "emit" || !isValidEmit(effect.events, effect.makeReply))
    ) {
      throw new TypeError(`The command handler ${effectProblem(effect)}`);
    }
    let outcome: Omit<Outcome<State, Event, Reply, Error>, "then">;
    switch (effect.type) {
      case "reject":
        outcome = { events: [], result: { ok: false, error: effect.error }, state };
        break;
      case "reply":
        outcome = { events: [], result: { ok: true, value: effect.value }, state };
        break;
      case "emit": {
        const next = effect.events.reduce((s, e) => entity.handleEvent(s, e), state);
        const value = effect.makeReply === undefined ? undefined as Reply : effect.makeReply(next);
        outcome = { events: effect.events, result: { ok: true, value }, state: next };
        break;
      }
    }
    return withThen(outcome);
  };
  return { state, when };
}

function withThen<State, Event, Reply, Error>(
  outcome: Omit<Outcome<State, Event, Reply, Error>, "then">,
): Outcome<State, Event, Reply, Error> {
  return { ...outcome, then: (expected) => check(outcome, expected) };
}

function check<State, Event, Reply, Error>(
  outcome: Omit<Outcome<State, Event, Reply, Error>, "then">,
  expected: Expected<State, Event, Reply, Error>,
): Outcome<State, Event, Reply, Error> {
  if ("events" in expected) assert.deepEqual(outcome.events, expected.events, "emitted events");
  if ("reply" in expected) {
    assert.ok(
      outcome.result.ok,
      `expected a reply, got rejection ${
        JSON.stringify(!outcome.result.ok && outcome.result.error)
      }`,
    );
    assert.deepEqual(outcome.result.value, expected.reply, "reply");
  }
  if ("error" in expected) {
    assert.ok(!outcome.result.ok, "expected a rejection, got a reply");
    assert.deepEqual(outcome.result.error, expected.error, "rejection");
  }
  if ("state" in expected) assert.deepEqual(outcome.state, expected.state, "state");
  return withThen(outcome);
}
