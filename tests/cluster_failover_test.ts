// Cluster fault test, failover: one of three host processes is killed with SIGKILL under load.
// Its shards are taken over by the other two (measured: from the kill until every entity of
// its shards answers again), every acknowledged command is in the log exactly once, a
// command in flight either succeeds through the client's retry with the same command id or
// fails as "unavailable"/"timeout" and is then in the log at most once, and every entity
// answers afterwards with the state its log gives.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type HostProcess, startHosts } from "./_faults/cluster_fleet.ts";
import {
  assertStates,
  ClusterLedger,
  reportCluster,
  runLoad,
  timeUntilAnswered,
  verifyCluster,
} from "./_faults/cluster_load.ts";
import { CLIENT_TIMEOUT, LEASE_TTL, openScenario, SHARDS } from "./_faults/cluster_scenario.ts";
import { assertOwnedOnce, fairShares } from "./_faults/cluster_checks.ts";
import { waitUntil } from "./_faults/load.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";

const ENTITIES = 1_000;
// Unpaced: 64 sends are under way at any moment, so some are in flight at the victim when it
// dies and the rest pile up on its shards until they move.
const COMMANDS = 4_000;
const CONCURRENCY = 64;
// The time until every entity answers again is printed, not asserted (no timing assertions in
// tests: the machine is shared); that every one of them answers within the client's deadline
// is asserted. bench/cluster.ts measures the failover time.

test(
  "cluster failover: a host killed with SIGKILL under load, its shards are taken over, nothing acknowledged is lost or applied twice",
  { timeout: 150_000 },
  async () => {
    const scenario = await openScenario("failover", ENTITIES);
    const { client, typeName, ids } = scenario;
    let hosts: HostProcess[] = [];
    try {
      hosts = await startHosts(3, scenario.hostConfig);
      const owned = await fairShares(hosts, typeName, SHARDS);
      const victim = hosts[1]!;
      const orphaned = owned.get(victim.hostId!)!;
      const ledger = new ClusterLedger();
      const load = runLoad({
        client,
        typeName,
        ids,
        ledger,
        prefix: "failover",
        concurrency: CONCURRENCY,
        commands: COMMANDS,
        timeout: CLIENT_TIMEOUT,
      });
      await waitUntil(
        "a third of the load acknowledged",
        () => ledger.acknowledged >= COMMANDS / 3,
      );
      const acknowledgedAtKill = ledger.acknowledged;
      const inFlightAtKill = ledger.sent.size - ledger.acknowledged - ledger.failed.size;
      const killedAt = performance.now();
      await victim.kill();
      // Every entity of the killed host's shards, asked at once right after the kill.
      const probes = ids.filter((id) => orphaned.includes(shardOf(id, SHARDS)));
      const recovery = await timeUntilAnswered(client, typeName, probes, killedAt, CLIENT_TIMEOUT);
      await load;
      const survivors = hosts.filter((host) => host !== victim);
      const after = await fairShares(survivors, typeName, SHARDS);
      await assertOwnedOnce(client, typeName, SHARDS, 2);

      const verdict = await verifyCluster(scenario.eventLog, typeName, ids, ledger);
      reportCluster(
        "cluster-failover",
        verdict,
        ledger,
        `recovery ${
          Math.round(recovery)
        } ms (leaseTtl ${LEASE_TTL}, ${orphaned.length} shards with ${probes.length} entities moved, shards after ${
          [...after.values()].map((s) => s.length).join("/")
        }, ${acknowledgedAtKill} acknowledged and ${inFlightAtKill} in flight at the kill)`,
      );
      const unexpected = [...ledger.failed.values()].filter((reason) =>
        reason !== "unavailable" && reason !== "timeout"
      );
      assert.deepEqual(unexpected, [], "commands fail only as unavailable or timeout");
      await assertStates(client, typeName, ids, verdict.states, CLIENT_TIMEOUT);
    } finally {
      await Promise.all(hosts.map((host) => host.kill()));
      await scenario.close();
    }
  },
);
