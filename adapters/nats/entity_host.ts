/**
 * A process's part in an entity cluster: {@linkcode EntityHost} owns shards of the entity
 * types it hosts through leases in a NATS KV bucket and answers the commands routed to them.
 *
 * @module
 */

import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import {
  type ClusterConfig,
  configSubject,
  hostKey,
  type HostLease,
  type HostStatus,
  OWNER_QUEUE,
  shardKey,
  type ShardLease as ShardLeaseValue,
} from "./_cluster_protocol.ts";
import { agreeClusterConfig, openLeaseBucket } from "./_cluster_config.ts";
import { LeaseView } from "./_lease_view.ts";
import { campaignsPerTick, rebalance, shardCap } from "./_rebalance.ts";
import { ReplyCache } from "./_reply_cache.ts";
import { ServiceDiscovery } from "./_service_discovery.ts";
import { campaign, type LostReason } from "./_shard_lease.ts";
import { type ShardContext, ShardServer } from "./_shard_server.ts";
import {
  DEFAULT_LEASE_TTL,
  DEFAULT_SHARDS,
  type EntityHostOptions,
  type EntityHostStopOptions,
  type HostedType,
  type ReadHostOptions,
  readHostOptions,
  readStopOptions,
} from "./entity_host_options.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Finished answers kept for retries of the same command id (see _reply_cache.ts).
const KEPT_REPLIES = 4096;
// How soon after a tick that still wants shards the next campaign runs.
const FOLLOW_UP_MS = 100;
// The pause between one finished release and the next of a host above its share.
const RELEASE_PAUSE_MS = 250;

/**
 * Hosts entity types in a cluster over NATS: the entities of each type are split into a fixed
 * number of shards, and each shard is owned by one host at a time through a lease (a key in
 * a JetStream KV bucket, created with compare-and-set, renewed, expiring). The owner answers
 * the commands that `EntityClient`s send to the shard's subject, with one `EntityRegistry` per
 * owned shard. Hosts share the shards fairly: one that joins takes its share gradually, one
 * that stops hands its shards over, one that crashes loses them when its leases expire. The
 * event log's concurrency check is the fence behind the leases: two hosts that both believe
 * they own a shard cannot fork an entity's history.
 *
 * The connection is the caller's (TCP or WebSocket); `stop()` leaves it open. Needs
 * nats-server 2.9 or later with JetStream.
 *
 * @example Two hosts of one cluster and a command routed to the owner
 * ```ts ignore
 * import { commandSet, emitAndReply, jsonBinarize } from "@eventsourced/eventsourced";
 * import { EntityHost, hostedEntity, NatsEventLog } from "@eventsourced/eventsourced/nats";
 * import { connect } from "@nats-io/transport-node";
 *
 * const account = { typeName: "account", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const accountCommands = commandSet(account, {
 *   deposit: (p: { amount: number }) => ({ handleCommand: () => emitAndReply(p.amount, (n: number) => n) }),
 * });
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const eventLog = new NatsEventLog(nc);
 * await eventLog.setup();
 * const host = await EntityHost.start(nc, {
 *   cluster: "bank",
 *   entities: [hostedEntity(accountCommands, { eventLog, binarize: jsonBinarize<number, number>() })],
 * });
 * console.log(host.status());
 * await host.stop();
 * await nc.close();
 * ```
 */
export class EntityHost {
  /** The host's id in the cluster. */
  readonly hostId: string;
  readonly #nc: NatsConnection;
  readonly #options: ReadHostOptions;
  readonly #config: ClusterConfig;
  readonly #kv: KV;
  readonly #started = new Date().toISOString();
  readonly #replies: ReplyCache;
  readonly #leaseValue: Uint8Array;
  // Shards this host holds a lease for: serving, or releasing until their close ends.
  readonly #servers = new Map<string, ShardServer>();
  // Shards being closed (released or dropped): not campaigned for until the close ended.
  readonly #closing = new Map<string, Promise<void>>();
  // Shards lost: performance.now() before which this host does not campaign for them again.
  readonly #backoff = new Map<string, number>();
  readonly #campaigns = new Map<string, Promise<void>>();
  readonly #context: ShardContext;
  #view: LeaseView | undefined;
  #discovery: ServiceDiscovery | undefined;
  #configSubscription: Subscription | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #followUp: ReturnType<typeof setTimeout> | undefined;
  #rebalancing: Promise<void> | undefined;
  #rebalanceAgain = false;
  // A release is due: set by the periodic tick and after a finished release only, so a host
  // gives up one shard at a time however many handoffs and follow-ups trigger rebalancing.
  #releaseDue = false;
  #stopping: Promise<void> | undefined;
  // Set once the view caught up: rebalancing before that would campaign half blind.
  #ready = false;
  #requests = 0;
  #errors = 0;
  #processingMs = 0;

  private constructor(
    nc: NatsConnection,
    options: ReadHostOptions,
    config: ClusterConfig,
    kv: KV,
  ) {
    this.#nc = nc;
    this.#options = options;
    this.#config = config;
    this.#kv = kv;
    this.hostId = options.hostId;
    this.#leaseValue = encoder.encode(
      JSON.stringify({ host: options.hostId } satisfies ShardLeaseValue),
    );
    this.#replies = new ReplyCache(KEPT_REPLIES, 3 * config.leaseTtl);
    this.#context = this.#makeContext();
  }

  /**
   * Joins cluster `options.cluster` on connection `nc` and starts serving: agrees on the
   * cluster's configuration (creating it and the lease bucket when the cluster is new),
   * announces the host, and runs its first campaign for shards. Resolves once that ran.
   *
   * Bad options are refused with a TypeError or RangeError before anything is sent; a
   * cluster created with another `shards` or `leaseTtl` than explicitly given is refused with
   * a StorageError of reason `"invalid-configuration"` naming both values.
   */
  static async start(nc: NatsConnection, options: EntityHostOptions): Promise<EntityHost> {
    const read = readHostOptions(options);
    if (typeof nc !== "object" || nc === null || typeof nc.subscribe !== "function") {
      throw new TypeError("Invalid EntityHost connection: expected a NatsConnection");
    }
    const js = jetstream(nc);
    const config = await agreeClusterConfig(js, read.cluster, read, {
      shards: DEFAULT_SHARDS,
      leaseTtl: DEFAULT_LEASE_TTL,
    });
    const kv = await openLeaseBucket(js, read.cluster, config.leaseTtl);
    const host = new EntityHost(nc, read, config, kv);
    try {
      await host.#join();
    } catch (error) {
      await host.stop({ timeout: 0 }).catch(() => {});
      throw error;
    }
    return host;
  }

  /** The shards this host serves and its live entities, by type, and its answered commands. */
  status(): HostStatus {
    const types: Record<string, { shards: number[]; entities: number }> = {};
    for (const type of this.#options.types) types[type.typeName] = { shards: [], entities: 0 };
    for (const server of this.#servers.values()) {
      if (!server.serving || !server.subscribed) continue;
      const entry = types[server.type.typeName]!;
      entry.shards.push(server.shard);
      entry.entities += server.entities;
    }
    for (const entry of Object.values(types)) entry.shards.sort((a, b) => a - b);
    return {
      hostId: this.hostId,
      started: this.#started,
      types,
      commands: this.#requests,
    };
  }

  /**
   * Leaves the cluster: withdraws the host's presence, hands every owned shard over (stops
   * taking its commands, finishes those in flight, stops its entities, deletes its lease so
   * another host takes it at once), then ends its timers and subscriptions. Shards not handed
   * over within `timeout` ms are abandoned: their leases expire. The connection stays open.
   * Calling it again returns the same promise.
   */
  stop(options?: EntityHostStopOptions): Promise<void> {
    let timeout: number;
    try {
      timeout = readStopOptions(options).timeout;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#stopping ??= this.#leave(timeout);
  }

  /** Same as {@linkcode EntityHost.stop} with its defaults, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #join(): Promise<void> {
    const { cluster, hostId, onError } = this.#options;
    this.#configSubscription = this.#nc.subscribe(configSubject(cluster), {
      queue: OWNER_QUEUE,
      callback: (error, msg) => {
        if (error !== null) onError(error);
        else msg.respond(encoder.encode(JSON.stringify(this.#config)));
      },
    });
    this.#view = await LeaseView.start(
      this.#kv,
      this.#config.leaseTtl,
      (key, holder, revision) => this.#shardChanged(key, holder, revision),
      () => this.#soon(),
      onError,
    );
    const revision = await this.#announce();
    // The watch delivers keys in stream order: once it shows this host's presence it has shown
    // every lease written before, so the first campaign sees the cluster as it is.
    await this.#view.caughtUp(hostKey(hostId), revision, this.#config.leaseTtl);
    this.#discovery = new ServiceDiscovery(this.#nc, {
      cluster,
      hostId,
      started: this.#started,
      status: () => this.status(),
      counts: () => ({
        requests: this.#requests,
        errors: this.#errors,
        processingMs: this.#processingMs,
      }),
    }, onError);
    this.#ticker = setInterval(() => this.#tick(), this.#config.leaseTtl / 3);
    this.#ready = true;
    await this.#rebalance();
  }

  // A shard key was written. Deleted: a handoff, campaign now. Written by another host after
  // our own last write: the lease is not ours any more, stop serving before the next renewal
  // would tell.
  #shardChanged(key: string, holder: string | undefined, revision: number): void {
    const server = this.#servers.get(key);
    if (server !== undefined && holder !== this.hostId && revision > server.lease.revision) {
      server.lease.lose();
    }
    if (holder === undefined) this.#soon();
  }

  #announce(): Promise<number> {
    const presence: HostLease = { types: this.#options.types.map((type) => type.typeName) };
    return this.#kv.put(hostKey(this.hostId), encoder.encode(JSON.stringify(presence)));
  }

  // Every third of a lease time: renew presence and leases, then rebalance.
  #tick(): void {
    const onError = this.#options.onError;
    if (this.#stopping === undefined) this.#announce().catch(onError);
    for (const server of this.#servers.values()) {
      server.lease.renew().catch((error) =>
        onError(new Error(`Cannot renew the lease "${server.lease.key}"`, { cause: error }))
      );
    }
    if (this.#stopping === undefined) {
      this.#releaseDue = true;
      this.#soon(0);
    }
  }

  // Runs a rebalance after `delay` ms (default: at once, with a little jitter so hosts that
  // all saw the same release do not all campaign in the same millisecond).
  #soon(delay = Math.random() * 20): void {
    if (!this.#ready || this.#stopping !== undefined || this.#followUp !== undefined) return;
    this.#followUp = setTimeout(() => {
      this.#followUp = undefined;
      void this.#rebalance();
    }, delay);
  }

  #rebalance(): Promise<void> {
    if (this.#rebalancing !== undefined) {
      this.#rebalanceAgain = true;
      return this.#rebalancing;
    }
    const run = (async () => {
      try {
        do {
          this.#rebalanceAgain = false;
          if (this.#stopping !== undefined) return;
          if (await this.#rebalanceOnce()) this.#soon(FOLLOW_UP_MS);
        } while (this.#rebalanceAgain);
      } catch (error) {
        this.#options.onError(error);
      } finally {
        this.#rebalancing = undefined;
      }
    })();
    this.#rebalancing = run;
    return run;
  }

  // One decision per type; whether some type still wants shards that nobody holds.
  async #rebalanceOnce(): Promise<boolean> {
    const view = this.#view!;
    const now = performance.now();
    const shards = this.#config.shards;
    const campaigns: Promise<void>[] = [];
    let wantsMore = false;
    const mayRelease = this.#releaseDue;
    this.#releaseDue = false;
    for (const type of this.#options.types) {
      const hosts = new Set(view.hostsServing(type.typeName)).add(this.hostId).size;
      const owned = new Map<number, number>();
      for (const server of this.#servers.values()) {
        if (server.type === type && server.serving) owned.set(server.shard, server.entities);
      }
      const free = (shard: number) => {
        const key = shardKey(type.typeName, shard);
        return !this.#servers.has(key) && !this.#closing.has(key) && !this.#campaigns.has(key) &&
          (this.#backoff.get(key) ?? 0) <= now && view.holder(key) === undefined;
      };
      const decision = rebalance({
        shards,
        hosts,
        owned,
        free,
        maxCampaigns: campaignsPerTick(shards),
        random: Math.random,
      });
      if (decision.release !== undefined && mayRelease) {
        const server = this.#servers.get(shardKey(type.typeName, decision.release));
        // One release at a time; the next one is due a moment after it finished, so a joining
        // host gets its share in seconds while only one shard is ever moving away from here.
        if (server !== undefined) {
          void this.#release(server).then(() => {
            this.#releaseDue = true;
            this.#soon(Math.min(this.#config.leaseTtl / 3, RELEASE_PAUSE_MS));
          });
        }
      }
      for (const shard of decision.campaign) campaigns.push(this.#campaign(type, shard));
      if (
        decision.campaign.length > 0 &&
        owned.size + decision.campaign.length < shardCap(shards, hosts)
      ) {
        wantsMore = true;
      }
    }
    await Promise.all(campaigns);
    for (const [key, until] of this.#backoff) if (until <= now) this.#backoff.delete(key);
    return wantsMore;
  }

  #campaign(type: HostedType, shard: number): Promise<void> {
    const key = shardKey(type.typeName, shard);
    let server: ShardServer | undefined;
    const running = (async () => {
      const lease = await campaign(
        this.#kv,
        key,
        this.#leaseValue,
        this.#config.leaseTtl,
        (reason) => this.#lost(key, server, reason),
      );
      if (lease === undefined) return;
      if (this.#stopping !== undefined) {
        await lease.release();
        return;
      }
      server = new ShardServer(this.#context, type, shard, lease);
      this.#servers.set(key, server);
      await server.start();
    })().catch((error) =>
      this.#options.onError(new Error(`Cannot campaign for "${key}"`, { cause: error }))
    ).finally(() => this.#campaigns.delete(key));
    this.#campaigns.set(key, running);
    return running;
  }

  // The lease ran out or was taken: stop serving at once and keep off the shard for a while.
  #lost(key: string, server: ShardServer | undefined, reason: LostReason): void {
    this.#backoff.set(key, performance.now() + 2 * this.#config.leaseTtl);
    if (server === undefined) return;
    if (this.#servers.get(key) === server) this.#servers.delete(key);
    server.drop();
    this.#closeTracked(key, server.closed);
    this.#options.onError(
      new Error(
        `Host "${this.hostId}" lost the lease "${key}" (${
          reason === "expired" ? "not renewed in time" : "taken or deleted"
        }) and stopped serving it`,
      ),
    );
  }

  #release(server: ShardServer): Promise<void> {
    const key = server.lease.key;
    const released = server.release().finally(() => {
      if (this.#servers.get(key) === server) this.#servers.delete(key);
    });
    this.#closeTracked(key, released);
    return released;
  }

  #closeTracked(key: string, closed: Promise<void>): void {
    const tracked: Promise<void> = closed.catch((error) => this.#options.onError(error)).finally(
      () => {
        if (this.#closing.get(key) === tracked) this.#closing.delete(key);
        // A handed-over shard may be another host's share now, or still ours to take back.
        this.#soon();
      },
    );
    this.#closing.set(key, tracked);
  }

  #makeContext(): ShardContext {
    return {
      nc: this.#nc,
      cluster: this.#options.cluster,
      hostId: this.hostId,
      shards: this.#config.shards,
      replies: this.#replies,
      onError: this.#options.onError,
      count: (failed, elapsed) => {
        this.#requests++;
        if (failed) this.#errors++;
        this.#processingMs += elapsed;
      },
      holderOf: async (key) => {
        const entry = await this.#kv.get(key);
        if (entry === null || entry.operation !== "PUT") return undefined;
        try {
          return (JSON.parse(decoder.decode(entry.value)) as ShardLeaseValue).host;
        } catch {
          return undefined;
        }
      },
    };
  }

  async #leave(timeout: number): Promise<void> {
    const onError = this.#options.onError;
    if (this.#followUp !== undefined) clearTimeout(this.#followUp);
    this.#followUp = undefined;
    // Leases are still renewed while the shards finish their commands.
    await this.#kv.delete(hostKey(this.hostId)).catch(onError);
    const handovers = [
      ...[...this.#servers.values()].map((server) => this.#release(server)),
      ...this.#campaigns.values(),
      ...(this.#rebalancing === undefined ? [] : [this.#rebalancing]),
    ];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(handovers),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeout)),
    ]);
    clearTimeout(timer);
    // Campaigns that won after the stop began release at once; the rest is abandoned.
    await Promise.allSettled([...this.#campaigns.values()]);
    for (const server of this.#servers.values()) server.abandon();
    this.#servers.clear();
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    if (this.#followUp !== undefined) clearTimeout(this.#followUp);
    this.#followUp = undefined;
    this.#view?.stop();
    this.#discovery?.stop();
    if (this.#configSubscription !== undefined && !this.#configSubscription.isClosed()) {
      this.#configSubscription.unsubscribe();
    }
    this.#replies.clear();
  }
}
