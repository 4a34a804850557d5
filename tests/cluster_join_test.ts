// Cluster fault test, a host joins: under steady load a fourth host process joins a cluster of
// three and takes over a fair share of the shards (16 of 64 each) while no command fails, and
// the log holds every command once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { HostProcess, startHosts } from "./_faults/cluster_fleet.ts";
import {
  assertStates,
  ClusterLedger,
  reportCluster,
  runLoad,
  verifyCluster,
} from "./_faults/cluster_load.ts";
import { CLIENT_TIMEOUT, openScenario, SHARDS } from "./_faults/cluster_scenario.ts";
import { assertOwnedOnce, fairShares } from "./_faults/cluster_checks.ts";
import { waitUntil } from "./_faults/load.ts";

const ENTITIES = 1_000;
const RATE = 200;
const CONCURRENCY = 64;

test(
  "cluster join: a 4th host process joins under load and gets a fair share, no command fails",
  { timeout: 150_000 },
  async () => {
    const scenario = await openScenario("join", ENTITIES);
    const { client, typeName, ids } = scenario;
    let hosts: HostProcess[] = [];
    try {
      hosts = await startHosts(3, scenario.hostConfig);
      await fairShares(hosts, typeName, SHARDS);
      const ledger = new ClusterLedger();
      const stopLoad = new AbortController();
      const load = runLoad({
        client,
        typeName,
        ids,
        ledger,
        prefix: "join",
        concurrency: CONCURRENCY,
        commands: RATE * 60,
        rate: RATE,
        timeout: CLIENT_TIMEOUT,
        signal: stopLoad.signal,
      });
      let settle = 0;
      try {
        await waitUntil("200 commands acknowledged", () => ledger.acknowledged >= 200);
        const joiner = new HostProcess({ ...scenario.hostConfig, hostId: "joiner" });
        hosts.push(joiner);
        const joined = performance.now();
        await joiner.ready();
        await fairShares(hosts, typeName, SHARDS);
        settle = performance.now() - joined;
        const acks = ledger.acknowledged;
        await waitUntil("load after the join", () => ledger.acknowledged >= acks + 200);
      } finally {
        stopLoad.abort();
        await load;
      }
      const owned = await assertOwnedOnce(client, typeName, SHARDS, 4);
      assert.deepEqual([...owned.values()].map((s) => s.length), [16, 16, 16, 16]);
      const verdict = await verifyCluster(scenario.eventLog, typeName, ids, ledger);
      reportCluster(
        "cluster-join",
        verdict,
        ledger,
        `fair shares 16/16/16/16 ${Math.round(settle)} ms after the 4th host started`,
      );
      assert.equal(ledger.failed.size, 0, `no command fails: ${ledger.failureSummary()}`);
      await assertStates(client, typeName, ids, verdict.states, CLIENT_TIMEOUT);
    } finally {
      await Promise.all(hosts.map((host) => host.kill()));
      await scenario.close();
    }
  },
);
