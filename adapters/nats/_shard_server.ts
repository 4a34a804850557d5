// One shard a host owns: the subscription to the shard's subject (queue group "owner"), the
// EntityRegistry of its entities, and the commands in flight. Every command runs through a
// wrapper that checks the lease by the monotonic clock right before the entity decides, so a
// host whose lease ran out (paused, cut off) persists nothing; the event log's concurrency
// check is the fence behind it: a conflict makes the host look at the lease key and drop the
// shard when it is no longer its own.
//
// Two ways out: drop (the lease is lost: stop at once, answer NOT_OWNER, close the registry)
// and release (a handoff: let the commands already delivered finish, close the registry, then
// delete the lease key so another host takes the shard at once).

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { Command } from "../../src/command.ts";
import { EntityRegistry } from "../../src/entity_registry.ts";
import { isConcurrencyError, isHandleCommandError, isSpawnError } from "../../src/errors.ts";
import type { EventMetadata } from "../../src/event_metadata.ts";
import { errorText } from "../../src/_error_text.ts";
import { NOT_OWNER, OWNER_QUEUE, shardSubject } from "./_cluster_protocol.ts";
import { type CommandRequest, readCommandRequest } from "./_command_request.ts";
import {
  type CommandReply,
  duplicateReply,
  failedReply,
  okReply,
  rejectedReply,
} from "./_command_reply.ts";
import { ReplyCache } from "./_reply_cache.ts";
import type { ShardLease } from "./_shard_lease.ts";
import type { HostedType } from "./entity_host_options.ts";

/** What the shards of one host share. */
export interface ShardContext {
  readonly nc: NatsConnection;
  readonly cluster: string;
  readonly hostId: string;
  readonly shards: number;
  readonly replies: ReplyCache;
  readonly onError: (error: unknown) => void;
  /** Counts one answered request and how long it took (ms). */
  readonly count: (failed: boolean, elapsed: number) => void;
  /** The holder of the lease key `key` as stored now (`undefined`: none). */
  readonly holderOf: (key: string) => Promise<string | undefined>;
}

// Thrown by the lease check inside a command: the entity then writes nothing and the request
// is answered NOT_OWNER.
const NOT_OWNER_MARK = Object.freeze(new Error("the shard's lease is no longer valid here"));
// Thrown the same way by a command whose caller's deadline passed while it waited: answered
// "aborted", and nothing is written.
const EXPIRED_MARK = Object.freeze(new Error("the caller's deadline has passed"));

type State = "serving" | "releasing" | "dropped" | "closed";

/** An owned shard: {@linkcode ShardServer.start} it after winning its lease. */
export class ShardServer {
  readonly type: HostedType;
  readonly shard: number;
  readonly lease: ShardLease;
  readonly #context: ShardContext;
  readonly #registry: EntityRegistry<unknown, unknown>;
  readonly #inFlight = new Set<Promise<void>>();
  #subscription: Subscription | undefined;
  #subscribed = false;
  #state: State = "serving";
  #closed: Promise<void> | undefined;

  constructor(context: ShardContext, type: HostedType, shard: number, lease: ShardLease) {
    this.#context = context;
    this.type = type;
    this.shard = shard;
    this.lease = lease;
    this.#registry = new EntityRegistry(type.commands.entity, type.registryOptions);
  }

  /**
   * Subscribes to the shard's subject; resolves once the server has the subscription, so a
   * shard is reported served only when a command sent to it can arrive.
   */
  async start(): Promise<void> {
    const { nc, cluster } = this.#context;
    this.#subscription = nc.subscribe(shardSubject(cluster, this.type.typeName, this.shard), {
      queue: OWNER_QUEUE,
      callback: (error, msg) => {
        if (error === null) this.#receive(msg);
        else this.#context.onError(error);
      },
    });
    await nc.flush();
    this.#subscribed = true;
  }

  /** Whether the shard takes commands (not released, not dropped). */
  get serving(): boolean {
    return this.#state === "serving";
  }

  /** Whether the server has confirmed the shard's subscription. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** Live entities of the shard. */
  get entities(): number {
    return this.#registry.size;
  }

  /** Settles once the shard stopped for good (registry closed, lease released or lost). */
  get closed(): Promise<void> {
    return this.#closed ?? Promise.resolve();
  }

  /**
   * The lease is lost: stop taking commands at once (those still delivered are answered
   * NOT_OWNER), close the registry (queued commands fail through the lease check).
   */
  drop(): void {
    if (this.#state === "dropped" || this.#state === "closed") return;
    const releasing = this.#state === "releasing";
    this.#state = "dropped";
    this.lease.abandon();
    this.#unsubscribe();
    if (!releasing) this.#closed = this.#registry.close();
  }

  /**
   * Hands the shard over: stop taking new commands, finish those delivered, stop the entities,
   * then delete the lease key if it is still this host's.
   */
  release(): Promise<void> {
    if (this.#state !== "serving") return this.closed;
    this.#state = "releasing";
    return this.#closed = (async () => {
      try {
        await this.#subscription?.drain();
      } catch {
        // A closed connection or subscription delivers nothing more either way.
      }
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      await this.#registry.close();
      if (this.#state === "releasing") {
        this.#state = "closed";
        await this.lease.release().catch((error) =>
          this.#context.onError(
            new Error(`Cannot release the lease "${this.lease.key}"`, { cause: error }),
          )
        );
      }
    })();
  }

  /**
   * Stops without waiting (a stop that ran out of time): like a drop, the lease is left to
   * expire.
   */
  abandon(): void {
    if (this.#state === "serving" || this.#state === "releasing") this.drop();
  }

  #unsubscribe(): void {
    const subscription = this.#subscription;
    if (subscription === undefined || subscription.isClosed()) return;
    subscription.drain().catch(() => {});
  }

  #receive(msg: Msg): void {
    const receivedAt = performance.now();
    if (this.#state === "dropped" || this.#state === "closed" || !this.lease.valid) {
      this.#answer(msg, this.#notOwner(), receivedAt);
      return;
    }
    const work: Promise<void> = this.#handle(msg, receivedAt).catch((error) =>
      this.#context.onError(error)
    ).finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  async #handle(msg: Msg, receivedAt: number): Promise<void> {
    const { hostId, shards, replies } = this.#context;
    const request = readCommandRequest(msg, {
      typeName: this.type.typeName,
      shard: this.shard,
      shards,
      commands: this.type.commands,
    }, receivedAt);
    if (!request.ok) {
      this.#answer(msg, failedReply(hostId, request.reason, request.message), receivedAt);
      return;
    }
    const commandId = request.metadata.commandId;
    if (commandId === undefined) {
      this.#answer(msg, await this.#run(request), receivedAt);
      return;
    }
    const key = ReplyCache.key(this.type.typeName, request.id, commandId);
    const known = replies.find(key);
    if (known !== undefined) {
      this.#answer(msg, await known, receivedAt);
      return;
    }
    const running = this.#run(request);
    replies.track(key, running);
    this.#answer(msg, await running, receivedAt);
  }

  async #run(request: CommandRequest): Promise<CommandReply> {
    const hostId = this.#context.hostId;
    const where = `"${request.name}" for "${this.type.typeName}/${request.id}"`;
    const deadline = request.deadline ?? Infinity;
    if (performance.now() >= deadline) return this.#expired(where);
    const lease = this.lease;
    const command = request.command;
    // The deadline and the lease are checked when the command is about to decide, after any
    // wait in the mailbox, rather than by an abort signal: a persist once started is never cut
    // short (that would leave its outcome unknown), and no timer stays behind per command.
    const guarded: Command<unknown, unknown, unknown, unknown> = {
      handleCommand(id: string, state: unknown, metadata: EventMetadata) {
        if (!lease.valid) throw NOT_OWNER_MARK;
        if (performance.now() >= deadline) throw EXPIRED_MARK;
        return command.handleCommand(id, state, metadata);
      },
    };
    let result;
    try {
      result = await this.#registry.handleCommand(request.id, guarded, {
        metadata: request.metadata,
      });
    } catch (error) {
      if (isHandleCommandError(error) && error.cause === EXPIRED_MARK) return this.#expired(where);
      return await this.#failure(error, where);
    }
    try {
      if ("duplicate" in result) return duplicateReply(hostId, result.seqNo);
      return result.ok
        ? okReply(hostId, request.codecs.reply.encode(result.value))
        : rejectedReply(hostId, request.codecs.error.encode(result.error));
    } catch (error) {
      return failedReply(
        hostId,
        "reply-failed",
        `${where}: the ${result.ok ? "reply" : "rejection"} cannot be encoded (${
          errorText(error)
        })`,
      );
    }
  }

  async #failure(error: unknown, where: string): Promise<CommandReply> {
    const hostId = this.#context.hostId;
    if (!isHandleCommandError(error)) {
      // A spawn that failed (the log could not be read) is worth a retry, maybe elsewhere.
      if (isSpawnError(error)) return failedReply(hostId, "resync-failed", errorText(error));
      return failedReply(hostId, "command-handler-threw", `${where}: ${errorText(error)}`);
    }
    if (error.cause === NOT_OWNER_MARK || (error.reason === "stopped" && !this.serving)) {
      return this.#notOwner();
    }
    if (error.reason === "persist-failed" && isConcurrencyError(error.cause)) {
      await this.#checkFence();
    }
    return failedReply(hostId, error.reason, error.message);
  }

  // Another process wrote to an entity of this shard: if the lease key is no longer ours, we
  // are the stale owner and stop at once; the caller retries and reaches the new owner.
  async #checkFence(): Promise<void> {
    let holder: string | undefined;
    try {
      holder = await this.#context.holderOf(this.lease.key);
    } catch (error) {
      this.#context.onError(error);
      return;
    }
    if (holder !== this.#context.hostId || !this.lease.valid) {
      this.lease.lose();
    }
  }

  #expired(where: string): CommandReply {
    return failedReply(
      this.#context.hostId,
      "aborted",
      `${where}: the deadline passed before it started`,
    );
  }

  #notOwner(): CommandReply {
    return failedReply(
      this.#context.hostId,
      NOT_OWNER,
      `Host "${this.#context.hostId}" does not serve shard ${this.shard} of "${this.type.typeName}"`,
    );
  }

  #answer(msg: Msg, reply: CommandReply, receivedAt: number): void {
    this.#context.count(reply.status === "failed", performance.now() - receivedAt);
    try {
      msg.respond(reply.data, { headers: reply.headers });
    } catch (error) {
      this.#context.onError(error);
    }
  }
}
