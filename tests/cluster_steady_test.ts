// Cluster fault test, steady state: three host processes share the 64 shards of a cluster
// fairly, and 64 concurrent clients sending to 1,000 entities see no command fail at all (in
// particular no concurrency conflict: one owner per entity), the hosts report no unexpected
// error, service discovery lists every shard once, and the log holds every command once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { startHosts } from "./_faults/cluster_fleet.ts";
import { ClusterLedger, reportCluster, runLoad, verifyCluster } from "./_faults/cluster_load.ts";
import { CLIENT_TIMEOUT, openScenario, SHARDS } from "./_faults/cluster_scenario.ts";
import { assertOwnedOnce, fairShares } from "./_faults/cluster_checks.ts";
import type { HostProcess } from "./_faults/cluster_fleet.ts";

const ENTITIES = 1_000;
const COMMANDS = 5_000;
const CONCURRENCY = 64;

test(
  "cluster steady state: 64 concurrent clients on 1,000 entities across 3 host processes, no command fails",
  { timeout: 150_000 },
  async () => {
    const scenario = await openScenario("steady", ENTITIES);
    let hosts: HostProcess[] = [];
    try {
      hosts = await startHosts(3, scenario.hostConfig);
      const owned = await fairShares(hosts, scenario.typeName, SHARDS);
      const ledger = new ClusterLedger();
      const started = performance.now();
      await runLoad({
        client: scenario.client,
        typeName: scenario.typeName,
        ids: scenario.ids,
        ledger,
        prefix: "steady",
        concurrency: CONCURRENCY,
        commands: COMMANDS,
        timeout: CLIENT_TIMEOUT,
      });
      const elapsed = performance.now() - started;
      const statuses = await Promise.all(hosts.map((host) => host.status()));
      const errors = statuses.reduce((sum, status) => sum + status.errors, 0);
      const served = statuses.reduce((sum, status) => sum + status.commands, 0);
      // Discovery agrees with the hosts' own status lines.
      const discovered = await assertOwnedOnce(scenario.client, scenario.typeName, SHARDS, 3);
      for (const status of statuses) {
        assert.deepEqual(
          discovered.get(status.hostId),
          status.types[scenario.typeName]?.shards,
          `$SRV.STATS of ${status.hostId} lists the shards of its status line`,
        );
      }

      const verdict = await verifyCluster(
        scenario.eventLog,
        scenario.typeName,
        scenario.ids,
        ledger,
      );
      reportCluster(
        "cluster-steady",
        verdict,
        ledger,
        `${Math.round(COMMANDS / (elapsed / 1000))} commands/s, shards ${
          [...owned.values()].map((s) => s.length).join("/")
        }, host errors ${errors}`,
      );
      assert.equal(ledger.failed.size, 0, `no command fails: ${ledger.failureSummary()}`);
      assert.equal(ledger.duplicates.size, 0, "no command is answered as a duplicate");
      assert.equal(verdict.found, COMMANDS, "the log holds exactly the commands sent");
      assert.ok(served >= COMMANDS, `the hosts answered ${served} commands`);
      assert.equal(
        errors,
        0,
        `the hosts report no unexpected error: ${statuses.flatMap((s) => s.firstErrors)}`,
      );
    } finally {
      await Promise.all(hosts.map((host) => host.kill()));
      await scenario.close();
    }
  },
);
