// What a host knows of the lease bucket: which hosts are present (and which types they serve)
// and who holds each shard, kept from a `kv.watch()` of puts and deletes. An expired key
// leaves no marker for watchers on nats-server 2.9, so an entry not renewed for leaseTtl plus
// a margin counts as gone. The view only guides the rebalancing: who owns a shard is decided
// by the compare-and-set on its key, never by the view.

import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { HostLease, ShardLease } from "./_cluster_protocol.ts";
import { leaseMargin } from "./_shard_lease.ts";

const decoder = new TextDecoder();
const HOST_PREFIX = "host.";
const SHARD_PREFIX = "shard.";

/** Called with a shard key, its new holder (none: deleted) and the write's revision. */
export type ShardChange = (key: string, holder: string | undefined, revision: number) => void;

interface Seen<Value> {
  readonly value: Value;
  readonly revision: number;
  // performance.now() of the key's last write, as far as the view can tell.
  readonly writtenAt: number;
}

/** A watch of the lease bucket; {@linkcode LeaseView.start} it, `stop()` it. */
export class LeaseView {
  readonly #hosts = new Map<string, Seen<HostLease>>();
  readonly #shards = new Map<string, Seen<ShardLease>>();
  readonly #staleAfter: number;
  readonly #onShard: ShardChange;
  readonly #onExpired: () => void;
  // Shard keys already reported as expired, and the timer of the next expiry to report.
  readonly #expired = new Set<string>();
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #waiters = new Set<{ key: string; revision: number; resolve: () => void }>();
  #watch: { stop(): void } | undefined;
  #stopped = false;

  private constructor(
    leaseTtl: number,
    onShard: ShardChange,
    onExpired: () => void,
    onError: (error: unknown) => void,
  ) {
    this.#staleAfter = leaseTtl + leaseMargin(leaseTtl);
    this.#onShard = onShard;
    this.#onExpired = onExpired;
    this.#onError = onError;
  }

  /**
   * Starts watching `kv`. `onShard` is called for every write of a shard key seen after the
   * start: a delete (a handoff) lets hosts campaign at once, a write by another host tells the
   * holder it lost the shard. `onExpired` is called when a shard key was not renewed in time
   * (a crashed or paused holder), so the hosts campaign for it then rather than at their next
   * tick.
   */
  static async start(
    kv: KV,
    leaseTtl: number,
    onShard: ShardChange,
    onExpired: () => void,
    onError: (error: unknown) => void,
  ): Promise<LeaseView> {
    const view = new LeaseView(leaseTtl, onShard, onExpired, onError);
    let watch = await kv.watch();
    view.#watch = watch;
    // A watch that ends while the view is in use (its consumer lost) is started again: the
    // new one delivers every key's last value first, so nothing is missed for long.
    void (async () => {
      while (!view.#stopped) {
        try {
          for await (const entry of watch) view.#apply(entry);
          if (view.#stopped) return;
          throw new Error("the watch of the lease bucket ended");
        } catch (error) {
          if (view.#stopped) return;
          onError(error);
        }
        await new Promise((resolve) => setTimeout(resolve, leaseTtl / 3));
        try {
          if (!view.#stopped) view.#watch = watch = await kv.watch();
        } catch (error) {
          onError(error);
        }
      }
    })();
    return view;
  }

  /**
   * Resolves once the view has seen `key` at `revision` or later (the watch delivers in
   * stream order, so then it has seen every key written before), or after `timeout` ms.
   */
  caughtUp(key: string, revision: number, timeout: number): Promise<void> {
    if (this.#revisionOf(key) >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        key,
        revision,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.resolve, timeout);
      this.#waiters.add(waiter);
    });
  }

  /** The ids of the hosts present (renewed recently) that serve `type`. */
  hostsServing(type: string): string[] {
    const now = performance.now();
    const hosts: string[] = [];
    for (const [id, seen] of this.#hosts) {
      if (now - seen.writtenAt <= this.#staleAfter && seen.value.types.includes(type)) {
        hosts.push(id);
      }
    }
    return hosts;
  }

  /** The host holding shard `key` (renewed recently), if any. */
  holder(key: string): string | undefined {
    const seen = this.#shards.get(key);
    if (seen === undefined || performance.now() - seen.writtenAt > this.#staleAfter) {
      return undefined;
    }
    return seen.value.host;
  }

  /** Ends the watch. */
  stop(): void {
    this.#stopped = true;
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#watch?.stop();
    for (const waiter of [...this.#waiters]) waiter.resolve();
  }

  #revisionOf(key: string): number {
    const seen = key.startsWith(HOST_PREFIX)
      ? this.#hosts.get(key.slice(HOST_PREFIX.length))
      : this.#shards.get(key);
    return seen?.revision ?? 0;
  }

  #apply(entry: KvWatchEntry): void {
    const key = entry.key;
    const isHost = key.startsWith(HOST_PREFIX);
    if (!isHost && !key.startsWith(SHARD_PREFIX)) return;
    const mapKey = isHost ? key.slice(HOST_PREFIX.length) : key;
    const map = (isHost ? this.#hosts : this.#shards) as Map<string, Seen<unknown>>;
    if (entry.operation !== "PUT") {
      map.delete(mapKey);
      if (!isHost) {
        this.#expired.delete(key);
        this.#onShard(key, undefined, entry.revision);
      }
    } else {
      try {
        const value = JSON.parse(decoder.decode(entry.value));
        if (isHost ? !isHostLease(value) : !isShardLease(value)) {
          throw new Error(`not a lease: ${decoder.decode(entry.value).slice(0, 200)}`);
        }
        // A value delivered from before the watch started may be old already: its age by the
        // wall clocks (the server's stamp, ours) is taken off, at most one TTL.
        const age = entry.isUpdate
          ? 0
          : Math.min(Math.max(0, Date.now() - entry.created.getTime()), this.#staleAfter);
        map.set(mapKey, { value, revision: entry.revision, writtenAt: performance.now() - age });
        if (!isHost) {
          this.#expired.delete(key);
          this.#armExpiry();
          if (entry.isUpdate) this.#onShard(key, value.host, entry.revision);
        }
      } catch (error) {
        map.delete(mapKey);
        this.#onError(new Error(`Cannot read lease key "${key}"`, { cause: error }));
      }
    }
    for (const waiter of [...this.#waiters]) {
      if (this.#revisionOf(waiter.key) >= waiter.revision) waiter.resolve();
    }
  }

  // One timer for the shard key that goes stale first; when it fires every stale key is
  // reported once and the timer is set for the next one.
  #armExpiry(): void {
    if (this.#expiryTimer !== undefined || this.#stopped) return;
    let next = Infinity;
    for (const [key, seen] of this.#shards) {
      if (!this.#expired.has(key)) next = Math.min(next, seen.writtenAt + this.#staleAfter);
    }
    if (next === Infinity) return;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      const now = performance.now();
      let expired = false;
      for (const [key, seen] of this.#shards) {
        if (!this.#expired.has(key) && now - seen.writtenAt > this.#staleAfter) {
          this.#expired.add(key);
          expired = true;
        }
      }
      if (expired) this.#onExpired();
      this.#armExpiry();
    }, Math.max(0, next - performance.now()) + 1);
  }
}

function isHostLease(value: unknown): value is HostLease {
  const types = (value as HostLease | null)?.types;
  return Array.isArray(types) && types.every((type) => typeof type === "string");
}

function isShardLease(value: unknown): value is ShardLease {
  return typeof (value as ShardLease | null)?.host === "string";
}
