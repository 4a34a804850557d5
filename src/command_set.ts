/**
 * Commands as data: a named set of factories from a payload to a {@linkcode Command}, so a
 * command can be sent by name from another process.
 *
 * @module
 */

import type { Command } from "./command.ts";
import type { EventSourced } from "./event_sourced.ts";
import { type Codec, jsonCodec } from "./codec.ts";
import { assertTypeName, quote } from "./_validate.ts";

/**
 * Builds a command from its payload. It may throw on a payload it does not accept: the
 * caller then gets a `HandleCommandError` of reason `"bad-payload"` and nothing is written.
 *
 * @example A factory
 * ```ts
 * import { type CommandFactory, emitAndReply } from "@eventsourced/eventsourced";
 *
 * const deposit = (payload: { amount: number }) => ({
 *   handleCommand: () => emitAndReply(payload.amount, (balance: number) => balance),
 * });
 * const factory: CommandFactory<number, number> = deposit;
 * factory.length;
 * ```
 */
export type CommandFactory<State, Event> = (
  payload: never,
) => Command<State, Event, unknown, unknown>;

/**
 * The factories of an entity's commands, by command name (1 to 64 characters of `A-Z a-z
 * 0-9 _ -`).
 *
 * @example Two commands of a counter
 * ```ts
 * import { type CommandFactories, emitAndReply, reply } from "@eventsourced/eventsourced";
 *
 * const factories = {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 *   get: () => ({ handleCommand: (_id: string, n: number) => reply(n) }),
 * } satisfies CommandFactories<number, number>;
 * factories.add(1);
 * ```
 */
export type CommandFactories<State, Event> = {
  readonly [name: string]: CommandFactory<State, Event>;
};

/**
 * The payload type of a command factory.
 *
 * @example The payload of a deposit
 * ```ts
 * import type { PayloadOf } from "@eventsourced/eventsourced";
 *
 * const payload: PayloadOf<(p: { amount: number }) => unknown> = { amount: 1 };
 * ```
 */
export type PayloadOf<F> = F extends (payload: infer P) => unknown ? P : never;

/**
 * The reply type of the command a factory builds.
 *
 * @example The reply of a query
 * ```ts
 * import type { Command, ReplyOf } from "@eventsourced/eventsourced";
 *
 * type Get = () => Command<number, number, number, never>;
 * const reply: ReplyOf<Get> = 3;
 * ```
 */
export type ReplyOf<F> = F extends
  (payload: never) => Command<infer _S, infer _E, infer R, infer _X> ? R
  : never;

/**
 * The rejection type of the command a factory builds.
 *
 * @example The rejection of a withdrawal
 * ```ts
 * import type { Command, RejectionOf } from "@eventsourced/eventsourced";
 *
 * type Withdraw = (amount: number) => Command<number, number, number, "InsufficientFunds">;
 * const error: RejectionOf<Withdraw> = "InsufficientFunds";
 * ```
 */
export type RejectionOf<F> = F extends
  (payload: never) => Command<infer _S, infer _E, infer _R, infer X> ? X : never;

/**
 * How one command's payload, reply and rejection travel; each defaults to JSON.
 *
 * @example A command whose payload is a decimal string
 * ```ts
 * import type { Codec, CommandCodecs } from "@eventsourced/eventsourced";
 *
 * const decimal: Codec<number> = {
 *   encode: (value) => new TextEncoder().encode(String(value)),
 *   decode: (bytes) => Number(new TextDecoder().decode(bytes)),
 * };
 * const codecs: CommandCodecs<number, number, never> = { payload: decimal, reply: decimal };
 * ```
 */
export interface CommandCodecs<Payload, Reply, Rejection> {
  /** The payload's codec. */
  readonly payload?: Codec<Payload> | undefined;
  /** The reply's codec. */
  readonly reply?: Codec<Reply> | undefined;
  /** The rejection's codec. */
  readonly error?: Codec<Rejection> | undefined;
}

/**
 * The codecs of some of a set's commands, by command name.
 *
 * @example Only `add` has its own payload codec
 * ```ts
 * import { type CommandCodecsOf, emitAndReply, jsonCodec } from "@eventsourced/eventsourced";
 *
 * const factories = {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 * };
 * const codecs: CommandCodecsOf<typeof factories> = { add: { payload: jsonCodec<number>() } };
 * ```
 */
export type CommandCodecsOf<F> = {
  readonly [N in keyof F]?: CommandCodecs<PayloadOf<F[N]>, ReplyOf<F[N]>, RejectionOf<F[N]>>;
};

/**
 * The codecs of one command, each present (JSON where none was given).
 *
 * @example Look up a command's codecs
 * ```ts
 * import { commandSet, emitAndReply, type ResolvedCommandCodecs } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const set = commandSet(counter, { add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }) });
 * const codecs: ResolvedCommandCodecs | undefined = set.codecs("add");
 * assert.equal(codecs?.payload.decode(codecs.payload.encode(3)), 3);
 * ```
 */
export interface ResolvedCommandCodecs {
  /** The payload's codec. */
  readonly payload: Codec<unknown>;
  /** The reply's codec. */
  readonly reply: Codec<unknown>;
  /** The rejection's codec. */
  readonly error: Codec<unknown>;
}

/**
 * An entity with its commands by name and their codecs: what a host needs to run a command
 * that arrives as bytes, and what a client needs to send one. Made by {@linkcode commandSet}.
 *
 * @example The type of a counter's set
 * ```ts
 * import { type CommandSet, commandSet, emitAndReply } from "@eventsourced/eventsourced";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const counterCommands = commandSet(counter, {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 * });
 * const set: CommandSet<number, number, typeof counterCommands.commands> = counterCommands;
 * ```
 */
export interface CommandSet<State, Event, F extends CommandFactories<State, Event>> {
  /** The entity the commands are for. */
  readonly entity: EventSourced<State, Event>;
  /** The factories by command name. */
  readonly commands: F;
  /** The codecs of command `name`, defaults filled in; `undefined` for an unknown name. */
  codecs(name: string): ResolvedCommandCodecs | undefined;
}

/**
 * Options of {@linkcode commandSet}.
 *
 * @example A reply codec for one command
 * ```ts
 * import { type CommandSetOptions, emitAndReply, jsonCodec } from "@eventsourced/eventsourced";
 *
 * const factories = { add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }) };
 * const options: CommandSetOptions<typeof factories> = { codecs: { add: { reply: jsonCodec<number>() } } };
 * ```
 */
export interface CommandSetOptions<F> {
  /** Codecs of some commands (each of payload, reply and rejection defaults to JSON). */
  codecs?: CommandCodecsOf<F> | undefined;
}

const COMMAND_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const JSON_CODECS: ResolvedCommandCodecs = Object.freeze({
  payload: jsonCodec(),
  reply: jsonCodec(),
  error: jsonCodec(),
});

function isCodec(value: unknown): value is Codec<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as Codec<unknown>).encode === "function" &&
    typeof (value as Codec<unknown>).decode === "function";
}

function resolveCodecs(name: string, given: unknown): ResolvedCommandCodecs {
  if (given === undefined) return JSON_CODECS;
  if (typeof given !== "object" || given === null) {
    throw new TypeError(`Invalid codecs of command "${name}": expected an object`);
  }
  const resolved: Record<string, Codec<unknown>> = {};
  for (const [key, codec] of Object.entries(given)) {
    if (key !== "payload" && key !== "reply" && key !== "error") {
      throw new TypeError(
        `Invalid codecs of command "${name}": unknown key ${
          quote(key)
        }, expected payload, reply or error`,
      );
    }
    if (codec === undefined) continue;
    if (!isCodec(codec)) {
      throw new TypeError(
        `Invalid ${key} codec of command "${name}": expected an object with encode and decode functions`,
      );
    }
    resolved[key] = codec;
  }
  return Object.freeze({ ...JSON_CODECS, ...resolved });
}

/**
 * Names the commands of `entity`: each factory builds a command from a payload, so the
 * command can be sent by name and payload from another process (an `EntityClient` of
 * `./nats`) and run where the entity lives (an `EntityHost`). The in-process API is
 * unchanged: a factory's command can also go to `spawn`'s ref or a registry.
 *
 * Throws a TypeError naming the problem for an invalid type name, command name, factory or
 * codec.
 *
 * @example A counter's commands, used in process
 * ```ts
 * import { commandSet, emitAndReply, EntityRegistry, jsonBinarize, MemoryEventLog, reply } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const counterCommands = commandSet(counter, {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 *   get: () => ({ handleCommand: (_id: string, n: number) => reply(n) }),
 * });
 * await using counters = new EntityRegistry(counter, { eventLog: new MemoryEventLog(), binarize: jsonBinarize() });
 * await counters.handleCommand("a", counterCommands.commands.add(2));
 * assert.deepEqual(await counters.handleCommand("a", counterCommands.commands.get()), { ok: true, value: 2 });
 * ```
 */
export function commandSet<State, Event, F extends CommandFactories<State, Event>>(
  entity: EventSourced<State, Event>,
  commands: F,
  options: CommandSetOptions<F> = {},
): CommandSet<State, Event, F> {
  if (typeof entity !== "object" || entity === null) {
    throw new TypeError("Invalid entity: expected an EventSourced object");
  }
  assertTypeName(entity.typeName);
  if (typeof commands !== "object" || commands === null) {
    throw new TypeError(
      `Invalid commands of "${entity.typeName}": expected an object of factories`,
    );
  }
  const names = Object.keys(commands);
  if (names.length === 0) {
    throw new TypeError(`Invalid commands of "${entity.typeName}": expected at least one`);
  }
  for (const name of names) {
    if (!COMMAND_NAME.test(name)) {
      throw new TypeError(
        `Invalid command name ${
          quote(name)
        } of "${entity.typeName}": expected 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"`,
      );
    }
    if (typeof commands[name] !== "function") {
      throw new TypeError(
        `Invalid command "${name}" of "${entity.typeName}": expected a factory function`,
      );
    }
  }
  const given = (options.codecs ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(commands, name)) {
      throw new TypeError(
        `Invalid codecs for ${quote(name)} of "${entity.typeName}": there is no such command`,
      );
    }
  }
  const codecs = new Map<string, ResolvedCommandCodecs>();
  for (const name of names) codecs.set(name, resolveCodecs(name, given[name]));
  return Object.freeze({
    entity,
    commands: Object.freeze({ ...commands }),
    codecs: (name: string) => codecs.get(name),
  });
}
