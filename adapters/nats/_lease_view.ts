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
  readonly #onRelease: () => void;
  readonly #onError: (error: unknown) => void;
  readonly #waiters = new Set<{ key: string; revision: number; resolve: () => void }>();
  #watch: { stop(): void } | undefined;
  #stopped = false;

  private constructor(
    leaseTtl: number,
    onRelease: () => void,
    onError: (error: unknown) => void,
  ) {
    this.#staleAfter = leaseTtl + leaseMargin(leaseTtl);
    this.#onRelease = onRelease;
    this.#onError = onError;
  }

  /**
   * Starts watching `kv`. `onRelease` is called when a shard key is deleted (a handoff), so
   * the hosts can campaign for it at once.
   */
  static async start(
    kv: KV,
    leaseTtl: number,
    onRelease: () => void,
    onError: (error: unknown) => void,
  ): Promise<LeaseView> {
    const view = new LeaseView(leaseTtl, onRelease, onError);
    const watch = await kv.watch();
    view.#watch = watch;
    void (async () => {
      try {
        for await (const entry of watch) view.#apply(entry);
      } catch (error) {
        if (!view.#stopped) onError(error);
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
    this.#watch?.stop();
    for (const waiter of [...this.#waiters]) waiter.resolve();
  }

  #revisionOf(key: string): number {
    const map = key.startsWith(HOST_PREFIX) ? this.#hosts : this.#shards;
    return map.get(key.slice(key.startsWith(HOST_PREFIX) ? HOST_PREFIX.length : 0))?.revision ??
      0;
  }

  #apply(entry: KvWatchEntry): void {
    const key = entry.key;
    const isHost = key.startsWith(HOST_PREFIX);
    if (!isHost && !key.startsWith(SHARD_PREFIX)) return;
    const mapKey = isHost ? key.slice(HOST_PREFIX.length) : key;
    const map = (isHost ? this.#hosts : this.#shards) as Map<string, Seen<unknown>>;
    if (entry.operation !== "PUT") {
      map.delete(mapKey);
      if (!isHost) this.#onRelease();
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
      } catch (error) {
        map.delete(mapKey);
        this.#onError(new Error(`Cannot read lease key "${key}"`, { cause: error }));
      }
    }
    for (const waiter of [...this.#waiters]) {
      if (this.#revisionOf(waiter.key) >= waiter.revision) waiter.resolve();
    }
  }
}

function isHostLease(value: unknown): value is HostLease {
  const types = (value as HostLease | null)?.types;
  return Array.isArray(types) && types.every((type) => typeof type === "string");
}

function isShardLease(value: unknown): value is ShardLease {
  return typeof (value as ShardLease | null)?.host === "string";
}
