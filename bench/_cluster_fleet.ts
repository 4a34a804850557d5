// The hosts of bench/cluster.ts: EntityHost child processes (bench/_cluster_host.ts) of one
// cluster, and the routed path's sender (EntityClient). The hosts always talk TCP; the client
// talks whatever connection it is given.

import type { NatsConnection } from "@nats-io/nats-core";
import { EntityClient } from "../adapters/nats/mod.ts";
import { type BenchChild, startChild } from "./_child.ts";
import { counterCommands, type Send } from "./_cluster_workload.ts";

/** The shard count of the bench clusters (the host's default). */
export const SHARDS = 64;

/** Host processes of one cluster. */
export class Fleet {
  readonly #natsUrl: string;
  readonly #cluster: string;
  readonly #leaseTtl: number;
  readonly #children = new Map<string, BenchChild>();
  #started = 0;

  constructor(natsUrl: string, cluster: string, leaseTtl: number) {
    this.#natsUrl = natsUrl;
    this.#cluster = cluster;
    this.#leaseTtl = leaseTtl;
  }

  /** The ids of the running hosts. */
  get hostIds(): string[] {
    return [...this.#children.keys()];
  }

  /** Leases lost (not renewed in time, or taken) by the hosts running now, since they started. */
  leasesLost(): number {
    let lost = 0;
    for (const child of this.#children.values()) {
      lost += Number(child.last("errors")?.split(" ")[0] ?? 0);
    }
    return lost;
  }

  /** The process ids of the running hosts. */
  get pids(): number[] {
    return [...this.#children.values()].map((child) => child.process.pid!);
  }

  /** Starts one more host and waits for its ready line; returns its id. */
  async add(): Promise<string> {
    const hostId = `${this.#cluster}-h${++this.#started}`;
    const child = startChild("_cluster_host", {
      natsUrl: this.#natsUrl,
      cluster: this.#cluster,
      hostId,
      leaseTtl: this.#leaseTtl,
    });
    this.#children.set(hostId, child);
    await child.ready;
    return hostId;
  }

  /** SIGKILLs host `hostId`. */
  async kill(hostId: string): Promise<void> {
    const child = this.#children.get(hostId);
    this.#children.delete(hostId);
    await child?.kill();
  }

  /** Stops every host (each hands its shards over), all at once. */
  async stop(): Promise<void> {
    const children = [...this.#children.values()];
    this.#children.clear();
    await Promise.all(children.map((child) => child.stop()));
  }
}

/** The client of a bench cluster, with the counter's command set. */
export function benchClient(nc: NatsConnection, cluster: string, timeout: number) {
  return new EntityClient(nc, { cluster, entities: { counter: counterCommands }, timeout });
}

/**
 * The routed path: `add(1)` through the client. A duplicate (a retry of a command whose first
 * answer was lost, e.g. with a killed host) goes to `onDuplicate`, or throws without one, as
 * does any other answer than ok.
 */
export function routedSender(
  client: ReturnType<typeof benchClient>,
  onDuplicate?: () => void,
): Send {
  return async (id, commandId) => {
    const result = await client.send("counter", id, "add", 1, { commandId });
    if (result.ok && "duplicate" in result && onDuplicate !== undefined) onDuplicate();
    else if (!result.ok || "duplicate" in result) {
      throw new Error(`unexpected answer of ${id}: ${JSON.stringify(result)}`);
    }
  };
}

/**
 * Waits until the cluster's hosts are exactly `hostIds` and own every shard of the counter,
 * none more than its cap (ceil of the fair share; 64 on 3 hosts settles at 22/22/20 too), the
 * same in two looks 500 ms apart; returns the shards by host.
 */
export async function waitBalanced(
  client: ReturnType<typeof benchClient>,
  hostIds: readonly string[],
  timeoutMs: number,
): Promise<Map<string, readonly number[]>> {
  const deadline = performance.now() + timeoutMs;
  const cap = Math.ceil(SHARDS / hostIds.length);
  let seen = "";
  let settled = "";
  while (performance.now() < deadline) {
    const statuses = await client.hosts({ timeout: 1_000 }).catch(() => []);
    const shards = new Map<string, readonly number[]>();
    for (const status of statuses) shards.set(status.hostId, status.types.counter?.shards ?? []);
    const counts = hostIds.map((id) => shards.get(id)?.length ?? -1);
    seen = hostIds.map((id, i) => `${id}: ${counts[i]}`).join(", ");
    const sum = counts.reduce((a, b) => a + b, 0);
    const balanced = statuses.length === hostIds.length && sum === SHARDS &&
      counts.every((n) => n >= 1 && n <= cap);
    if (balanced && seen === settled) return shards;
    settled = balanced ? seen : "";
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the hosts did not balance within ${timeoutMs} ms (last seen ${seen})`);
}
