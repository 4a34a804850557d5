// Cluster fault test, a zombie host: one of three host processes is frozen with SIGSTOP under
// load for longer than its lease. The other two take its shards and write to its entities;
// then it gets SIGCONT and wakes believing it still owns them. It must stop serving them
// before it answers anything: requests that NATS delivered to its stale subscription while it
// slept (sent straight to the shards' subjects, so it answers them itself) get "not-owner",
// never a reply from its stale entities. Afterwards every shard is owned once (status lines
// and $SRV.STATS), the log holds every acknowledged command once and no history forked.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type HostProcess, startHosts } from "./_faults/cluster_fleet.ts";
import {
  assertStates,
  ClusterLedger,
  reportCluster,
  runLoad,
  verifyCluster,
} from "./_faults/cluster_load.ts";
import { CLIENT_TIMEOUT, LEASE_TTL, openScenario, SHARDS } from "./_faults/cluster_scenario.ts";
import { assertOwnedOnce, fairShares, statusOwnership, waitFor } from "./_faults/cluster_checks.ts";
import { rawGet, type RawReply } from "./_faults/cluster_raw.ts";
import { sleep, waitUntil } from "./_faults/load.ts";
import { NOT_OWNER } from "../adapters/nats/_cluster_protocol.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";

const ENTITIES = 1_000;
const RATE = 250;
const CONCURRENCY = 64;
const RAW_PER_SHARD = 4;

test(
  "cluster zombie: a host frozen with SIGSTOP past its lease wakes, serves none of the shards it lost, and nothing forks or is lost",
  { timeout: 150_000 },
  async () => {
    const scenario = await openScenario("zombie", ENTITIES);
    const { client, typeName, ids, nc } = scenario;
    const { cluster } = scenario.hostConfig;
    let hosts: HostProcess[] = [];
    try {
      hosts = await startHosts(3, scenario.hostConfig);
      const owned = await fairShares(hosts, typeName, SHARDS);
      const zombie = hosts[2]!;
      const zombieId = zombie.hostId!;
      const others = hosts.filter((host) => host !== zombie);
      const lost = owned.get(zombieId)!;
      const lostIds = new Set(ids.filter((id) => lost.includes(shardOf(id, SHARDS))));
      const ledger = new ClusterLedger();
      const stopLoad = new AbortController();
      const load = runLoad({
        client,
        typeName,
        ids,
        ledger,
        prefix: "zombie",
        concurrency: CONCURRENCY,
        commands: RATE * 60,
        rate: RATE,
        timeout: CLIENT_TIMEOUT,
        signal: stopLoad.signal,
      });
      try {
        await waitUntil("500 commands acknowledged", () => ledger.acknowledged >= 500);
        zombie.pause();
        const pausedAt = performance.now();
        // The others take over every shard of the zombie.
        await waitFor("the others own every shard", async () => {
          const all = [...(await statusOwnership(others, typeName)).values()].flat();
          return all.length === SHARDS && new Set(all).size === SHARDS;
        });
        const takeover = performance.now() - pausedAt;
        // Requests straight to the lost shards: NATS hands some to the zombie's stale
        // subscription, where they wait until it wakes.
        const raw: Promise<RawReply>[] = [];
        for (const shard of lost) {
          const id = scenario.idOfShard(shard);
          if (id === undefined) continue;
          for (let i = 0; i < RAW_PER_SHARD; i++) {
            raw.push(rawGet(nc, cluster, typeName, id, shard, 30_000));
          }
        }
        // The new owners write to the zombie's former entities while it sleeps.
        const ackedOnLost = () =>
          [...ledger.acked.keys()].filter((tag) => lostIds.has(ledger.sent.get(tag)!)).length;
        const before = ackedOnLost();
        await waitUntil("new owners write", () => ackedOnLost() >= before + 20);
        await sleep(LEASE_TTL);
        const paused = performance.now() - pausedAt;
        zombie.resume();
        const replies = await Promise.all(raw);
        const fromZombie = replies.filter((reply) => reply.host === zombieId);
        const served = fromZombie.filter((reply) => reply.status !== "failed");
        assert.deepEqual(served, [], "the zombie answers nothing from the shards it lost");
        assert.ok(
          fromZombie.every((reply) => reply.reason === NOT_OWNER),
          `the zombie answers not-owner: ${JSON.stringify(fromZombie.slice(0, 3))}`,
        );
        assert.ok(fromZombie.length > 0, "some requests reached the zombie's stale subscription");
        // Its status soon lists none of them: well before it may campaign for a lost shard
        // again (2 × leaseTtl after the loss).
        let kept: number[] = [];
        await waitFor("the zombie drops its lost shards", async () => {
          kept = (await zombie.shards(typeName)).filter((shard) => lost.includes(shard));
          return kept.length === 0;
        }, LEASE_TTL).catch(() => {});
        assert.deepEqual(kept, [], "the zombie drops them");
        // The load goes on a while with the zombie awake.
        const resumedAcks = ledger.acknowledged;
        await waitUntil("load after the wake", () => ledger.acknowledged >= resumedAcks + 500);
        stopLoad.abort();
        await load;

        const ownedOnce = await assertOwnedOnce(client, typeName, SHARDS, 3);
        const verdict = await verifyCluster(scenario.eventLog, typeName, ids, ledger);
        reportCluster(
          "cluster-zombie",
          verdict,
          ledger,
          `recovery ${Math.round(takeover)} ms (takeover of ${lost.length} shards; paused ${
            Math.round(paused)
          } ms, ${fromZombie.length} of ${replies.length} raw requests answered not-owner by the zombie, shards after ${
            [...ownedOnce.values()].map((s) => s.length).join("/")
          })`,
        );
        const unexpected = [...ledger.failed.values()].filter((reason) =>
          reason !== "unavailable" && reason !== "timeout"
        );
        assert.deepEqual(unexpected, [], "commands fail only as unavailable or timeout");
        await assertStates(client, typeName, ids, verdict.states, CLIENT_TIMEOUT);
      } finally {
        stopLoad.abort();
        zombie.resume();
        await load.catch(() => {});
      }
    } finally {
      await Promise.all(hosts.map((host) => host.kill()));
      await scenario.close();
    }
  },
);
