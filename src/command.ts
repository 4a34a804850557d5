/**
 * Commands and the effects their handlers return: emit events and reply, reply only, or reject.
 *
 * @module
 */

import type { EventMetadata } from "./event_metadata.ts";

/**
 * What a command handler decided. Build one with {@linkcode emitAndReply}, {@linkcode emit},
 * {@linkcode reply} or {@linkcode reject}.
 *
 * @example Inspect an effect
 * ```ts
 * import { type CommandEffect, reject } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const effect: CommandEffect<number, string, number, string> = reject("no");
 * assert.equal(effect.type, "reject");
 * ```
 */
export type CommandEffect<State, Event, Reply, Error> =
  | EmitAndReply<State, Event, Reply>
  | ReplyEffect<Reply>
  | RejectEffect<Error>;

/**
 * Persist `events`, apply them, then reply with `makeReply(newState)`.
 *
 * @example Built by emitAndReply
 * ```ts
 * import { type EmitAndReply, emitAndReply } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const effect: EmitAndReply<number, string, number> = emitAndReply("a", (state: number) => state);
 * assert.deepEqual(effect.events, ["a"]);
 * ```
 */
export interface EmitAndReply<State, Event, Reply> {
  /** Discriminant. */
  readonly type: "emit";
  /**
   * The events to persist atomically, in order. An empty array writes nothing and replies
   * from the current state. Anything but an array (a hand-built effect) fails the command with
   * reason `"command-handler-threw"`, before anything is written.
   */
  readonly events: readonly Event[];
  /**
   * Computes the reply from the state after the events; `undefined` replies `undefined`.
   * Anything else but a function fails the command before anything is written.
   */
  readonly makeReply: ((newState: State) => Reply) | undefined;
}

/**
 * Reply without persisting anything.
 *
 * @example Built by reply
 * ```ts
 * import { reply, type ReplyEffect } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const effect: ReplyEffect<number> = reply(1);
 * assert.equal(effect.value, 1);
 * ```
 */
export interface ReplyEffect<Reply> {
  /** Discriminant. */
  readonly type: "reply";
  /** The reply. */
  readonly value: Reply;
}

/**
 * Reject the command: nothing is persisted, the caller gets `{ ok: false, error }`.
 *
 * @example Built by reject
 * ```ts
 * import { reject, type RejectEffect } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const effect: RejectEffect<string> = reject("Overflow");
 * assert.equal(effect.error, "Overflow");
 * ```
 */
export interface RejectEffect<Error> {
  /** Discriminant. */
  readonly type: "reject";
  /** The business error. */
  readonly error: Error;
}

/**
 * A command for an entity: from the entity's id and current state it decides what happens.
 * Synchronous, and run strictly one at a time per entity.
 *
 * @example Increase a counter, refusing overflow
 * ```ts
 * import { type Command, type CommandEffect, emitAndReply, reject } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * type Event = { type: "increased"; by: number };
 * class Increase implements Command<number, Event, number, "Overflow"> {
 *   constructor(readonly by: number) {}
 *   handleCommand(_id: string, state: number): CommandEffect<number, Event, number, "Overflow"> {
 *     return state + this.by > 100
 *       ? reject("Overflow")
 *       : emitAndReply({ type: "increased", by: this.by }, (newState) => newState);
 *   }
 * }
 * assert.equal(new Increase(200).handleCommand("a", 0).type, "reject");
 * ```
 */
export interface Command<State, Event, Reply, Error> {
  /**
   * Decides what happens to the entity `id` in `state`. `metadata` is the metadata the command
   * was sent with (`{}` when none), which every event it emits carries; a handler reacting to
   * one entity on behalf of another can pass its `correlationId` on.
   */
  handleCommand(
    id: string,
    state: State,
    metadata: EventMetadata,
  ): CommandEffect<State, Event, Reply, Error>;
}

function toEventArray<Event>(events: Event | readonly Event[]): readonly Event[] {
  return Array.isArray(events) ? events as readonly Event[] : [events as Event];
}

/**
 * Persists one or several events (atomically, in order), applies them, then replies with
 * `makeReply(newState)`.
 *
 * @example Emit two events and reply with the new state
 * ```ts
 * import { emitAndReply } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const effect = emitAndReply<number, string, number>(["a", "b"], (state) => state);
 * assert.deepEqual(effect.type === "emit" && effect.events, ["a", "b"]);
 * ```
 */
export function emitAndReply<State, Event, Reply>(
  events: Event | readonly Event[],
  makeReply: (newState: State) => Reply,
): EmitAndReply<State, Event, Reply> {
  return { type: "emit", events: toEventArray(events), makeReply };
}

/**
 * Persists one or several events (atomically, in order) and applies them; the reply is
 * `undefined`.
 *
 * @example Emit one event
 * ```ts
 * import { emit } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const effect = emit({ type: "closed" });
 * assert.deepEqual(effect.type === "emit" && effect.events, [{ type: "closed" }]);
 * ```
 */
export function emit<Event>(
  events: Event | readonly Event[],
): EmitAndReply<unknown, Event, undefined> {
  return { type: "emit", events: toEventArray(events), makeReply: undefined };
}

/**
 * Replies without persisting anything, e.g. to answer a query from the state.
 *
 * @example Reply with the state
 * ```ts
 * import { reply } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(reply(42), { type: "reply", value: 42 });
 * ```
 */
export function reply<Reply>(value: Reply): ReplyEffect<Reply> {
  return { type: "reply", value };
}

/**
 * Rejects the command with a business error; nothing is persisted.
 *
 * @example Reject with an error value
 * ```ts
 * import { reject } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(reject("InsufficientFunds"), { type: "reject", error: "InsufficientFunds" });
 * ```
 */
export function reject<Error>(error: Error): RejectEffect<Error> {
  return { type: "reject", error };
}
