/**
 * The client of an entity cluster: sends a command by entity type, id, command name and
 * payload to whichever host owns the entity, over any NATS connection.
 *
 * @module
 */

import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/nats-core";
import type { Command } from "../../src/command.ts";
import type { PayloadOf, RejectionOf, ReplyOf } from "../../src/command_set.ts";
import type { ResolvedCommandCodecs } from "../../src/command_set.ts";
import type { Duplicate, Result } from "../../src/result.ts";
import type { EventMetadata } from "../../src/event_metadata.ts";
import { readMetadata } from "../../src/event_metadata.ts";
import { HandleCommandError, type HandleCommandFailure } from "../../src/errors.ts";
import { jsonCodec } from "../../src/codec.ts";
import { assertId, assertTypeName, quote } from "../../src/_validate.ts";
import {
  integerAtLeast,
  objectWith,
  type OptionRules,
  readOptions,
  stringOption,
} from "../../src/_options.ts";
import { assertKnownKeys, optionMessage } from "../../src/_options.ts";
import {
  CLUSTER_NAME,
  type ClusterConfig,
  COMMAND_HEADER,
  configSubject,
  HOST_HEADER,
  type HostStatus,
  ID_HEADER,
  REASON_HEADER,
  RETRIED_FAILURES,
  SEQ_NO_HEADER,
  serviceName,
  shardSubject,
  STATUS_HEADER,
  TIMEOUT_HEADER,
  TYPE_HEADER,
} from "./_cluster_protocol.ts";
import { SHARD_HASH, shardOf } from "./_shard_hash.ts";
import { encodeHeaderValue, metadataHeaders } from "./_metadata_headers.ts";
import { attemptFailure, backoffDelay, sleep, untilAborted } from "./_client_retry.ts";
import type { Instrumentation } from "../../src/instrumentation.ts";
import { assertClusterSend, observeSend } from "./_observed_send.ts";
import { assertInstrumentation } from "../../src/_observed.ts";

/**
 * What a client needs to know of one entity type's commands: their names (for the types) and
 * their codecs. A `CommandSet` made by `commandSet` is one.
 *
 * @example A counter's set is a client command set
 * ```ts
 * import { commandSet, emitAndReply } from "@eventsourced/eventsourced";
 * import type { ClientCommandSet } from "@eventsourced/eventsourced/nats";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const set: ClientCommandSet = commandSet(counter, {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 * });
 * ```
 */
export interface ClientCommandSet {
  /** The command factories by name (only their types matter to the client). */
  readonly commands: { readonly [name: string]: (payload: never) => unknown };
  /** The codecs of command `name`; `undefined` for an unknown name. */
  codecs(name: string): ResolvedCommandCodecs | undefined;
}

/**
 * The command sets a client knows, by entity type name.
 *
 * @example Sets by type
 * ```ts
 * import { commandSet, emitAndReply } from "@eventsourced/eventsourced";
 * import type { ClientCommandSets } from "@eventsourced/eventsourced/nats";
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const counterCommands = commandSet(counter, {
 *   add: (by: number) => ({ handleCommand: () => emitAndReply(by, (n: number) => n) }),
 * });
 * const sets: ClientCommandSets = { counter: counterCommands };
 * ```
 */
export type ClientCommandSets = { readonly [type: string]: ClientCommandSet };

/**
 * The sets of a client that was given none: any type, any command, any payload, JSON codecs.
 *
 * @example An untyped client's send
 * ```ts ignore
 * import { EntityClient } from "@eventsourced/eventsourced/nats";
 *
 * const client = new EntityClient(nc, { cluster: "bank" }); // EntityClient<UntypedCommandSets>
 * await client.send("account", "alice", "deposit", { amount: 1 });
 * ```
 */
export type UntypedCommandSets = {
  readonly [type: string]: {
    readonly commands: {
      readonly [name: string]: (payload: unknown) => Command<unknown, unknown, unknown, unknown>;
    };
    codecs(name: string): ResolvedCommandCodecs | undefined;
  };
};

/**
 * Options of an {@linkcode EntityClient}.
 *
 * @example A client with a 5 s deadline per command
 * ```ts
 * import type { EntityClientOptions, UntypedCommandSets } from "@eventsourced/eventsourced/nats";
 *
 * const options: EntityClientOptions<UntypedCommandSets> = { cluster: "bank", timeout: 5_000 };
 * ```
 */
export interface EntityClientOptions<Sets extends ClientCommandSets> {
  /** The cluster's name, as its hosts were started with. */
  cluster: string;
  /**
   * The command sets by entity type name: their codecs are used, and a type or command name
   * they do not know is refused before anything is sent. Without them every payload, reply
   * and rejection travels as JSON and the hosts check the names.
   */
  entities?: Sets | undefined;
  /** The default deadline of a `send`, in ms (1 to 600 000); default 10 000. */
  timeout?: number | undefined;
  /**
   * The longest wait for one answer, in ms, before the command is sent again with the same
   * command id (at most what is left of the deadline); default 5 000.
   */
  attemptTimeout?: number | undefined;
  /**
   * Hooks told of every send (`clusterSend`), which may add to the metadata that crosses to
   * the host: `openTelemetry()` of `@eventsourced/eventsourced/opentelemetry` makes a client
   * span per send and carries its trace context, so the host's command span is its child.
   * Default: none.
   */
  instrumentation?: Instrumentation | undefined;
}

/**
 * Options of {@linkcode EntityClient.send}.
 *
 * @example An idempotent send with a deadline
 * ```ts
 * import type { SendOptions } from "@eventsourced/eventsourced/nats";
 *
 * const options: SendOptions = { commandId: "order-42-pay", timeout: 2_000, metadata: { correlationId: "order-42" } };
 * ```
 */
export interface SendOptions {
  /**
   * The command's id, kept with its events so that sending it again cannot apply it twice.
   * Default: a new random UUID per `send` (the client's own retries reuse it).
   */
  commandId?: string | undefined;
  /** Metadata the command's events carry (a `commandId` here counts as the one above). */
  metadata?: EventMetadata | undefined;
  /** Aborts the send; an answer that comes later is ignored. */
  signal?: AbortSignal | undefined;
  /** The deadline in ms from now (1 to 600 000); default the client's `timeout`. */
  timeout?: number | undefined;
}

/**
 * Options of {@linkcode EntityClient.hosts}.
 *
 * @example Wait at most one second for the hosts' answers
 * ```ts
 * import type { HostsOptions } from "@eventsourced/eventsourced/nats";
 *
 * const options: HostsOptions = { timeout: 1_000 };
 * ```
 */
export interface HostsOptions {
  /** The longest wait for answers in ms; default 1 000. */
  timeout?: number | undefined;
}

/**
 * The answer to a `send` of command `F` (a factory of the set): the entity's `Result`, or a
 * `Duplicate` when the command id had already been applied.
 *
 * @example The result type of a withdrawal
 * ```ts
 * import type { Command } from "@eventsourced/eventsourced";
 * import type { SendResult } from "@eventsourced/eventsourced/nats";
 *
 * type Withdraw = (payload: { amount: number }) => Command<number, number, number, "InsufficientFunds">;
 * const result: SendResult<Withdraw> = { ok: false, error: "InsufficientFunds" };
 * ```
 */
export type SendResult<F> = Result<ReplyOf<F>, RejectionOf<F>> | Duplicate;

const clientOptionRules: OptionRules<EntityClientOptions<ClientCommandSets>> = {
  cluster: stringOption(
    undefined as unknown as string,
    CLUSTER_NAME,
    'a string of 1 to 32 characters of A-Z, a-z, 0-9, "_" or "-"',
  ),
  entities: {
    default: undefined,
    valid: (value) => typeof value === "object" && value !== null,
    expected: "an object of command sets by type name",
  },
  timeout: integerAtLeast(1, 10_000),
  attemptTimeout: integerAtLeast(1, 5_000),
  instrumentation: objectWith(undefined, [], "an Instrumentation (an object of hooks)"),
};

const SEND_OPTION_KEYS = ["commandId", "metadata", "signal", "timeout"];
const MAX_TIMEOUT = 600_000;
const JSON_CODECS: ResolvedCommandCodecs = Object.freeze({
  payload: jsonCodec(),
  reply: jsonCodec(),
  error: jsonCodec(),
});
const decoder = new TextDecoder();

function failure(message: string, reason: HandleCommandFailure, cause?: unknown) {
  return new HandleCommandError(message, cause === undefined ? { reason } : { reason, cause });
}

/**
 * Sends commands to the entities of a cluster of `EntityHost`s by entity type, id, command
 * name and payload, from any process with a NATS connection (TCP or WebSocket: a server, a
 * Worker, a browser page). The host that owns the entity's shard runs the command; the client
 * finds it through the shard's subject, never by address.
 *
 * Every command carries a command id (a random one unless given), so the client can send it
 * again safely: it does so, with backoff, when no host answers for the shard (it is moving),
 * when an answer does not come within `attemptTimeout`, and on the failures that did nothing or
 * that the id makes safe to repeat, until the deadline. Then it fails with a
 * `HandleCommandError`: `"unavailable"` when no attempt can have been applied, `"timeout"`
 * when one may have been (send again with the same `commandId` to find out), `"mailbox-full"`
 * when the entity stayed overloaded. Unknown names, an invalid id and a payload its codec
 * cannot encode are refused before anything is sent (`"unknown-command"`, `"invalid-id"`,
 * `"bad-payload"`).
 *
 * @example Deposit into an account hosted somewhere in the cluster "bank"
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { EntityClient } from "@eventsourced/eventsourced/nats";
 * import { accountCommands } from "./account.ts";
 *
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const bank = new EntityClient(nc, { cluster: "bank", entities: { account: accountCommands } });
 * const result = await bank.send("account", "alice", "deposit", { amount: 100 }, { commandId: "dep-1" });
 * if (result.ok) console.log("balance", result.value);
 * ```
 */
export class EntityClient<Sets extends ClientCommandSets = UntypedCommandSets> {
  readonly #nc: NatsConnection;
  readonly #cluster: string;
  readonly #entities: ClientCommandSets | undefined;
  readonly #timeout: number;
  readonly #attemptTimeout: number;
  readonly #instrumentation: Instrumentation | undefined;
  #config: Promise<ClusterConfig> | undefined;

  /** Creates the client; nothing is sent until the first `send`. */
  constructor(nc: NatsConnection, options: EntityClientOptions<Sets>) {
    if (typeof nc !== "object" || nc === null || typeof nc.request !== "function") {
      throw new TypeError("Invalid EntityClient connection: expected a NatsConnection");
    }
    const read = readOptions("EntityClient", options, clientOptionRules);
    if (read.cluster === undefined) {
      throw new TypeError("Invalid EntityClient options: cluster is required");
    }
    if (read.timeout! > MAX_TIMEOUT || read.attemptTimeout! > MAX_TIMEOUT) {
      const key = read.timeout! > MAX_TIMEOUT ? "timeout" : "attemptTimeout";
      throw new RangeError(
        optionMessage("EntityClient", key, read[key], `an integer from 1 to ${MAX_TIMEOUT}`),
      );
    }
    if (read.entities !== undefined) {
      for (const [type, set] of Object.entries(read.entities)) {
        assertTypeName(type);
        if (
          typeof set !== "object" || set === null || typeof set.codecs !== "function" ||
          typeof set.commands !== "object"
        ) {
          throw new TypeError(
            `Invalid EntityClient entity "${type}": expected a command set made by commandSet`,
          );
        }
        const typeName = (set as { entity?: { typeName?: unknown } }).entity?.typeName;
        if (typeName !== undefined && typeName !== type) {
          throw new TypeError(
            `Invalid EntityClient entity "${type}": its command set is for ${quote(typeName)}`,
          );
        }
      }
    }
    this.#nc = nc;
    this.#cluster = read.cluster;
    this.#entities = read.entities;
    this.#timeout = read.timeout!;
    this.#attemptTimeout = read.attemptTimeout!;
    assertInstrumentation("EntityClient", read.instrumentation);
    assertClusterSend(read.instrumentation);
    this.#instrumentation = read.instrumentation;
  }

  /**
   * Sends command `command` with `payload` to entity `type`/`id` and resolves with its
   * result (see the class for the retries and failures).
   */
  async send<
    Type extends keyof Sets & string,
    Name extends keyof Sets[Type]["commands"] & string,
  >(
    type: Type,
    id: string,
    command: Name,
    payload: PayloadOf<Sets[Type]["commands"][Name]>,
    options?: SendOptions,
  ): Promise<SendResult<Sets[Type]["commands"][Name]>> {
    const where = `${quote(command)} for "${String(type)}/${String(id)}"`;
    const read = readSendOptions(options, this.#timeout);
    const codecs = this.#codecs(type, command);
    try {
      assertId(id);
    } catch (error) {
      throw failure(`Cannot send ${where}: ${(error as Error).message}`, "invalid-id", error);
    }
    let body: Uint8Array;
    try {
      body = codecs.payload.encode(payload);
    } catch (error) {
      throw failure(
        `Cannot send ${where}: the payload cannot be encoded (${(error as Error).message})`,
        "bad-payload",
        error,
      );
    }
    const metadata = readMetadata(
      "send",
      read.commandId === undefined
        ? read.metadata ?? {}
        : { ...read.metadata, commandId: read.commandId },
    );
    const withId = metadata.commandId === undefined
      ? readMetadata("send", { ...metadata, commandId: crypto.randomUUID() })
      : metadata;
    const hook = this.#instrumentation?.clusterSend;
    const observed = hook === undefined ? undefined : observeSend(hook, type, id, command, withId);
    const fields: (readonly [string, string])[] = [
      [TYPE_HEADER, type],
      [ID_HEADER, encodeHeaderValue(id)],
      [COMMAND_HEADER, command],
      ...metadataHeaders(1, observed?.metadata ?? withId),
    ];
    const deadline = performance.now() + read.timeout;
    const sent = this.#attempts(type, id, fields, body, codecs, deadline, read.signal, where);
    if (observed === undefined) return await sent as SendResult<Sets[Type]["commands"][Name]>;
    let result: Result<unknown, unknown> | Duplicate;
    try {
      result = await sent;
    } catch (error) {
      observed.rejected(error);
      throw error;
    }
    observed.resolved(result);
    return result as SendResult<Sets[Type]["commands"][Name]>;
  }

  /**
   * The hosts of the cluster that answer within `timeout`, with the shards they own and their
   * live entities, sorted by host id (NATS service discovery: `$SRV.STATS`).
   */
  async hosts(options: HostsOptions = {}): Promise<HostStatus[]> {
    const { timeout } = readOptions(
      "hosts",
      options,
      {
        timeout: integerAtLeast(1, 1_000),
      } satisfies OptionRules<HostsOptions>,
    );
    const answers = await this.#nc.requestMany(
      `$SRV.STATS.${serviceName(this.#cluster)}`,
      undefined,
      { maxWait: timeout, strategy: "timer" },
    );
    const hosts: HostStatus[] = [];
    try {
      for await (const answer of answers) {
        try {
          const stats = answer.json<{ endpoints?: { data?: HostStatus }[] }>();
          const data = stats.endpoints?.[0]?.data;
          if (data !== undefined && typeof data.hostId === "string") hosts.push(data);
        } catch {
          // An answer that is not a host's stats (another service of the same name) is skipped.
        }
      }
    } catch (error) {
      if (attemptFailure(error) !== "no-responders") throw error;
    }
    return hosts.sort((a, b) => a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0);
  }

  #codecs(type: string, command: string): ResolvedCommandCodecs {
    const what = `${quote(command)} for ${quote(type)}`;
    if (typeof type !== "string" || !CLUSTER_NAME_TYPE.test(type)) {
      throw failure(
        `Cannot send ${what}: ${quote(type)} is not an entity type name`,
        "unknown-command",
      );
    }
    if (typeof command !== "string" || !COMMAND_NAME.test(command)) {
      throw failure(
        `Cannot send ${what}: ${quote(command)} is not a command name`,
        "unknown-command",
      );
    }
    if (this.#entities === undefined) return JSON_CODECS;
    const set = Object.hasOwn(this.#entities, type) ? this.#entities[type] : undefined;
    if (set === undefined) {
      throw failure(
        `Cannot send ${what}: this client knows no entity type "${type}" (it knows ${
          Object.keys(this.#entities).join(", ")
        })`,
        "unknown-command",
      );
    }
    const codecs = set.codecs(command);
    if (codecs === undefined) {
      throw failure(
        `Cannot send ${what}: "${type}" has no command "${command}" (it has ${
          Object.keys(set.commands).join(", ")
        })`,
        "unknown-command",
      );
    }
    return codecs;
  }

  // The cluster's configuration, asked of any host once; a failed ask is forgotten so the
  // next send asks again.
  #clusterConfig(
    deadline: number,
    signal: AbortSignal | undefined,
    where: string,
  ): Promise<ClusterConfig> {
    const known = this.#config;
    if (known !== undefined) return known;
    const asked = this.#askConfig(deadline, signal, where);
    this.#config = asked;
    asked.catch(() => {
      if (this.#config === asked) this.#config = undefined;
    });
    return asked;
  }

  async #askConfig(
    deadline: number,
    signal: AbortSignal | undefined,
    where: string,
  ): Promise<ClusterConfig> {
    for (let attempt = 0;; attempt++) {
      const left = deadline - performance.now();
      if (signal?.aborted || left <= 0) {
        throw failure(
          `Cannot send ${where}: no host of cluster "${this.#cluster}" answered before the ${
            signal?.aborted ? "signal aborted" : "deadline"
          }`,
          "unavailable",
          signal?.reason,
        );
      }
      try {
        const answer = await untilAborted(
          this.#nc.request(configSubject(this.#cluster), undefined, {
            timeout: Math.max(1, Math.min(left, this.#attemptTimeout)),
          }),
          signal,
        );
        return readConfig(answer, this.#cluster);
      } catch (error) {
        const kind = attemptFailure(error);
        if (kind === "fatal") {
          throw failure(
            `Cannot send ${where}: ${(error as Error).message}`,
            "unavailable",
            error,
          );
        }
        if (kind === "aborted") continue;
      }
      await sleep(Math.min(backoffDelay(attempt), deadline - performance.now()), signal);
    }
  }

  async #attempts(
    type: string,
    id: string,
    fields: readonly (readonly [string, string])[],
    body: Uint8Array,
    codecs: ResolvedCommandCodecs,
    deadline: number,
    signal: AbortSignal | undefined,
    where: string,
  ): Promise<Result<unknown, unknown> | Duplicate> {
    const config = await this.#clusterConfig(deadline, signal, where);
    const subject = shardSubject(this.#cluster, type, shardOf(id, config.shards));
    // Whether an attempt may have reached a host that applied it: then running out of time
    // is "timeout" (outcome unknown), otherwise "unavailable" (nothing was done).
    let mayHaveApplied = false;
    let last: { reason: string; message: string } | undefined;
    for (let attempt = 0;; attempt++) {
      const left = Math.floor(deadline - performance.now());
      if (signal?.aborted || left <= 0 || (attempt > 0 && left < MIN_RETRY_WINDOW_MS)) {
        throw outOfTime(where, mayHaveApplied, last, signal);
      }
      const headers = natsHeaders();
      for (const [name, value] of fields) headers.set(name, value);
      headers.set(TIMEOUT_HEADER, `${left}`);
      let answer: Msg;
      try {
        answer = await untilAborted(
          this.#nc.request(subject, body, {
            headers,
            timeout: Math.max(1, Math.min(left, this.#attemptTimeout)),
          }),
          signal,
        );
      } catch (error) {
        const kind = attemptFailure(error);
        if (kind === "fatal") {
          throw failure(`Cannot send ${where}: ${(error as Error).message}`, "unavailable", error);
        }
        if (kind === "no-responders") {
          last = { reason: "unavailable", message: "no host serves its shard" };
        } else {
          mayHaveApplied = true;
          last = { reason: "timeout", message: "no answer came" };
          if (kind === "aborted") continue;
        }
        await sleep(Math.min(backoffDelay(attempt), deadline - performance.now()), signal);
        continue;
      }
      const outcome = readAnswer(answer, codecs, where);
      if (!("retry" in outcome)) return outcome;
      last = outcome.retry;
      if (outcome.retry.reason === "persist-outcome-unknown") mayHaveApplied = true;
      await sleep(Math.min(backoffDelay(attempt), deadline - performance.now()), signal);
    }
  }
}

// A retry is not sent with less than this left: no host could answer it in time, and its
// unanswered request would turn a known outcome ("mailbox-full", "unavailable") into an unknown
// one ("timeout").
const MIN_RETRY_WINDOW_MS = 25;

const CLUSTER_NAME_TYPE = /^[A-Za-z0-9_-]{1,64}$/;
const COMMAND_NAME = /^[A-Za-z0-9_-]{1,64}$/;

interface ReadSend {
  readonly commandId: string | undefined;
  readonly metadata: EventMetadata | undefined;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
}

function readSendOptions(options: SendOptions | undefined, timeout: number): ReadSend {
  if (options === undefined) {
    return { commandId: undefined, metadata: undefined, signal: undefined, timeout };
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Invalid send options ${quote(options)}: expected an object`);
  }
  assertKnownKeys("send", options, SEND_OPTION_KEYS);
  const { commandId, metadata, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RangeError(optionMessage("send", "signal", signal, "an AbortSignal"));
  }
  if (
    options.timeout !== undefined &&
    !(Number.isInteger(options.timeout) && options.timeout >= 1 && options.timeout <= MAX_TIMEOUT)
  ) {
    throw new RangeError(
      optionMessage("send", "timeout", options.timeout, `an integer from 1 to ${MAX_TIMEOUT}`),
    );
  }
  return { commandId, metadata, signal, timeout: options.timeout ?? timeout };
}

function readConfig(answer: Msg, cluster: string): ClusterConfig {
  let config: Partial<ClusterConfig>;
  try {
    config = answer.json<Partial<ClusterConfig>>();
  } catch (error) {
    throw new Error(`The configuration of cluster "${cluster}" is not JSON`, { cause: error });
  }
  if (!Number.isInteger(config.shards) || config.shards! < 1) {
    throw new Error(`The configuration of cluster "${cluster}" has no valid shard count`);
  }
  if (config.hash !== SHARD_HASH) {
    throw new Error(
      `Cluster "${cluster}" hashes ids with ${quote(config.hash)}, this client with ${SHARD_HASH}`,
    );
  }
  return config as ClusterConfig;
}

type Answer = Result<unknown, unknown> | Duplicate | { retry: { reason: string; message: string } };

function readAnswer(answer: Msg, codecs: ResolvedCommandCodecs, where: string): Answer {
  const status = answer.headers?.get(STATUS_HEADER);
  const host = answer.headers?.get(HOST_HEADER) ?? "an unknown host";
  switch (status) {
    case "ok":
      return { ok: true, value: decodeWith(codecs.reply, answer.data, "reply", where, host) };
    case "rejected":
      return {
        ok: false,
        error: decodeWith(codecs.error, answer.data, "rejection", where, host),
      };
    case "duplicate": {
      const seqNo = Number(answer.headers?.get(SEQ_NO_HEADER));
      return { ok: true, duplicate: true, value: undefined, seqNo };
    }
    case "failed": {
      const reason = answer.headers?.get(REASON_HEADER) ?? "";
      const message = decoder.decode(answer.data);
      if (RETRIED_FAILURES.has(reason)) return { retry: { reason, message } };
      throw failure(
        `Cannot send ${where}: ${message || reason} (answered by ${host})`,
        reason as HandleCommandFailure,
      );
    }
    default:
      throw failure(
        `Cannot send ${where}: the answer has no valid ${STATUS_HEADER} (${
          quote(status)
        }); is something other than an EntityHost listening on the shard's subject?`,
        "unavailable",
      );
  }
}

function decodeWith(
  codec: { decode(bytes: Uint8Array): unknown },
  bytes: Uint8Array,
  what: string,
  where: string,
  host: string,
): unknown {
  try {
    return codec.decode(bytes);
  } catch (error) {
    throw failure(
      `The ${what} to ${where} from ${host} cannot be decoded (${
        (error as Error).message
      }); the command took effect`,
      "reply-failed",
      error,
    );
  }
}

function outOfTime(
  where: string,
  mayHaveApplied: boolean,
  last: { reason: string; message: string } | undefined,
  signal: AbortSignal | undefined,
): HandleCommandError {
  const ended = signal?.aborted ? "the signal aborted" : "the deadline passed";
  const lastly = last === undefined ? "" : ` (last: ${last.message || last.reason})`;
  if (mayHaveApplied) {
    return failure(
      `Cannot send ${where}: ${ended} before an answer came${lastly}; it may have been applied, send it again with the same commandId to find out`,
      "timeout",
      signal?.reason,
    );
  }
  if (last?.reason === "mailbox-full") {
    return failure(
      `Cannot send ${where}: the entity stayed overloaded until ${ended}; nothing was done`,
      "mailbox-full",
      signal?.reason,
    );
  }
  return failure(
    `Cannot send ${where}: no host took it before ${ended}${lastly}; nothing was done`,
    "unavailable",
    signal?.reason,
  );
}
