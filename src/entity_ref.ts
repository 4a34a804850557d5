/**
 * The handle to a spawned entity.
 *
 * @module
 */

import type { Command } from "./command.ts";
import type { EventMetadata } from "./event_metadata.ts";
import type { Duplicate, Result } from "./result.ts";

/**
 * Options of {@linkcode EntityRef.handleCommand}.
 *
 * @example Withdraw a command that waits too long
 * ```ts
 * import { type HandleCommandOptions, jsonBinarize, MemoryEventLog, reply, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const entity = { typeName: "counter", initialState: 0, handleEvent: (s: number) => s };
 * const ref = await spawn(entity, "a", { eventLog: new MemoryEventLog(), binarize: jsonBinarize() });
 * const options: HandleCommandOptions = { signal: AbortSignal.timeout(1_000) };
 * assert.deepEqual(await ref.handleCommand({ handleCommand: () => reply(1) }, options), { ok: true, value: 1 });
 * await ref.stop();
 * ```
 */
export interface HandleCommandOptions {
  /**
   * Withdraws the command while it waits in the mailbox; the promise then rejects with a
   * `HandleCommandError` (reason `"aborted"`). Once the command runs it is passed to the
   * event log's `persist`, and from then on the log decides what an abort means: a write not
   * sent yet fails (`"persist-failed"`), one already sent fails as
   * `"persist-outcome-unknown"`; either way the entity re-syncs before its next command.
   */
  signal?: AbortSignal | undefined;
  /**
   * Stored with every event the command emits, and passed to its handler. A `commandId`
   * makes a retry safe: an entity that already persisted events of that command answers a
   * {@linkcode Duplicate} and writes nothing. Checked against `METADATA_LIMITS` before the
   * command runs.
   */
  metadata?: EventMetadata | undefined;
}

/**
 * {@linkcode HandleCommandOptions} with a `commandId`: the answer may be a `Duplicate`.
 *
 * @example Options of a retried command
 * ```ts
 * import type { WithCommandId } from "@eventsourced/eventsourced";
 *
 * const options: WithCommandId = { metadata: { commandId: crypto.randomUUID() } };
 * console.assert(options.metadata.commandId.length === 36);
 * ```
 */
export interface WithCommandId extends HandleCommandOptions {
  /** The metadata, with the command's id. */
  metadata: EventMetadata & { readonly commandId: string };
}

/**
 * {@linkcode HandleCommandOptions} without a `commandId`: the answer is never a `Duplicate`.
 *
 * @example Options of a command sent once
 * ```ts
 * import type { WithoutCommandId } from "@eventsourced/eventsourced";
 *
 * const options: WithoutCommandId = { metadata: { correlationId: "order-7" } };
 * console.assert(options.metadata?.correlationId === "order-7");
 * ```
 */
export interface WithoutCommandId extends HandleCommandOptions {
  /** The metadata, without a command id. */
  metadata?: (EventMetadata & { readonly commandId?: undefined }) | undefined;
}

/**
 * A handle to a spawned entity: send it commands, one at a time in the order sent.
 *
 * @typeParam State The entity's state.
 * @typeParam Event The entity's events.
 *
 * @example Send a command
 * ```ts
 * import { emitAndReply, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (s: number, by: number) => s + by };
 * await using ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize: jsonBinarize() });
 * const result = await ref.handleCommand({ handleCommand: () => emitAndReply(5, (s: number) => s) });
 * assert.deepEqual(result, { ok: true, value: 5 });
 * ```
 */
export interface EntityRef<State, Event> {
  /** The entity's id. */
  readonly id: string;
  /**
   * Runs the command after those sent before it; resolves to its reply or business rejection,
   * or, for a `commandId` whose events the entity already persisted, a `Duplicate`.
   * Rejects with a `HandleCommandError` on a technical failure (the `cause` says which); the
   * entity stays usable and re-syncs from the log when needed.
   */
  handleCommand<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    options?: WithoutCommandId,
  ): Promise<Result<Reply, Error>>;
  /** {@inheritDoc EntityRef.(handleCommand:1)} */
  handleCommand<Reply, Error>(
    command: Command<State, Event, Reply, Error>,
    options?: HandleCommandOptions,
  ): Promise<Result<Reply, Error> | Duplicate>;
  /**
   * Refuses new commands, finishes those already sent, waits for a snapshot being saved, then
   * ends. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  /** Same as {@linkcode EntityRef.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
