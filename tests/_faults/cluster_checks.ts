// Who owns which shard, as the hosts' status lines and NATS service discovery ($SRV.STATS
// through EntityClient.hosts) tell it. Status lines are taken one host after the other and a
// shard may move in between, so a single round can show a shard twice or not at all for a
// moment; these checks poll until a round is consistent, and fail after a bound.

import type { NatsConnection } from "@nats-io/nats-core";
import { serviceName } from "../../adapters/nats/_cluster_protocol.ts";
import { sleep } from "./load.ts";
import type { HostProcess } from "./cluster_fleet.ts";
import type { CounterClient } from "./cluster_load.ts";

/** Shards by host id. */
export type Ownership = Map<string, number[]>;

function ownedOnce(owned: Ownership, shards: number): boolean {
  const all = [...owned.values()].flat();
  return all.length === shards && new Set(all).size === shards &&
    all.every((shard) => Number.isInteger(shard) && shard >= 0 && shard < shards);
}

function describe(owned: Ownership): string {
  return [...owned].map(([id, shards]) => `${id}: ${shards.length}`).join(", ");
}

async function poll(
  what: string,
  read: () => Promise<Ownership>,
  holds: (owned: Ownership) => boolean,
  ms: number,
): Promise<Ownership> {
  const deadline = Date.now() + ms;
  while (true) {
    const owned = await read();
    if (holds(owned)) return owned;
    if (Date.now() > deadline) {
      throw new Error(`${what} did not hold within ${ms} ms (last seen: ${describe(owned)})`);
    }
    await sleep(100);
  }
}

/** The shards of `type` by host, from each host's status line. */
export async function statusOwnership(
  hosts: readonly HostProcess[],
  type: string,
): Promise<Ownership> {
  const owned: Ownership = new Map();
  for (const host of hosts) owned.set(host.hostId!, await host.shards(type));
  return owned;
}

/** The shards of `type` by host, from `$SRV.STATS` (hosts that answer within 1 s). */
export async function discoveredOwnership(
  client: CounterClient,
  type: string,
): Promise<Ownership> {
  const owned: Ownership = new Map();
  for (const status of await client.hosts({ timeout: 1_000 })) {
    owned.set(status.hostId, [...(status.types[type]?.shards ?? [])]);
  }
  return owned;
}

/**
 * Waits until the status lines of `hosts` show every shard owned exactly once and each host
 * with a fair share: at most ⌈shards/n⌉ (the hosts' cap; so 64 on 3 hosts is 22/21/21 or
 * 22/22/20, on 4 hosts 16 each); returns the shards by host.
 */
export function fairShares(
  hosts: readonly HostProcess[],
  type: string,
  shards: number,
  ms = 30_000,
): Promise<Ownership> {
  const cap = Math.ceil(shards / hosts.length);
  return poll(
    `a fair share of ${shards} shards for each of ${hosts.length} hosts`,
    () => statusOwnership(hosts, type),
    (owned) =>
      ownedOnce(owned, shards) &&
      [...owned.values()].every((s) => s.length <= cap),
    ms,
  );
}

/**
 * Waits until `$SRV.STATS` lists exactly `hostCount` hosts and every shard of `type` owned by
 * exactly one of them; returns the shards by host id.
 */
export function assertOwnedOnce(
  client: CounterClient,
  type: string,
  shards: number,
  hostCount: number,
  ms = 20_000,
): Promise<Ownership> {
  return poll(
    `$SRV.STATS: ${hostCount} hosts, each of ${shards} shards owned once`,
    () => discoveredOwnership(client, type),
    (owned) => owned.size === hostCount && ownedOnce(owned, shards),
    ms,
  );
}

/** Polls the async `condition` every 50 ms until it holds; fails after `ms`. */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Failed answers (status "failed": not-owner, persist-failed after a conflict, mailbox-full…)
 * by host id, as `$SRV.STATS` reports them in `num_errors`: every attempt of every command,
 * including the ones the client retried and the caller never saw.
 */
export async function failedAnswers(
  nc: NatsConnection,
  cluster: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const answers = await nc.requestMany(`$SRV.STATS.${serviceName(cluster)}`, undefined, {
    maxWait: 1_000,
    strategy: "timer",
  });
  for await (const answer of answers) {
    const stats = answer.json<{ id: string; endpoints: { num_errors: number }[] }>();
    counts.set(stats.id, stats.endpoints.reduce((sum, e) => sum + e.num_errors, 0));
  }
  return counts;
}
