// Cluster fault test, rolling restart: under steady load each of three host processes in
// turn is stopped gracefully (stdin "stop": host.stop() hands its shards over, finishes the
// commands in flight, releases its leases) and started again with the same host id; the next
// one stops as soon as the restarted one serves a shard. No command fails at all, the shares
// end fair, and the log holds every command once.

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
import { assertOwnedOnce, fairShares, waitFor } from "./_faults/cluster_checks.ts";
import { waitUntil } from "./_faults/load.ts";

const ENTITIES = 1_000;
const RATE = 200;
const CONCURRENCY = 64;

test(
  "cluster rolling restart: each of 3 host processes stopped gracefully and restarted under load, no command fails",
  { timeout: 150_000 },
  async () => {
    const scenario = await openScenario("rolling", ENTITIES);
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
        prefix: "rolling",
        concurrency: CONCURRENCY,
        commands: RATE * 90,
        rate: RATE,
        timeout: CLIENT_TIMEOUT,
        signal: stopLoad.signal,
      });
      const handovers: number[] = [];
      let settle = 0;
      try {
        await waitUntil("200 commands acknowledged", () => ledger.acknowledged >= 200);
        for (let i = 0; i < hosts.length; i++) {
          const old = hosts[i]!;
          const started = performance.now();
          await old.stop();
          handovers.push(performance.now() - started);
          const restarted = new HostProcess(old.config);
          hosts[i] = restarted;
          await restarted.ready();
          // Ready means serving, as a deployment's readiness check would see it: the next
          // host stops while shards may still be moving towards this one.
          await waitFor(
            "the restarted host serves a shard",
            async () => (await restarted.shards(typeName)).length > 0,
          );
        }
        const settled = performance.now();
        await fairShares(hosts, typeName, SHARDS);
        settle = performance.now() - settled;
        const acks = ledger.acknowledged;
        await waitUntil("load after the restarts", () => ledger.acknowledged >= acks + 200);
      } finally {
        stopLoad.abort();
        await load;
      }
      await assertOwnedOnce(client, typeName, SHARDS, 3);
      const verdict = await verifyCluster(scenario.eventLog, typeName, ids, ledger);
      reportCluster(
        "cluster-rolling-restart",
        verdict,
        ledger,
        `stop() took ${handovers.map((ms) => Math.round(ms)).join("/")} ms, fair shares ${
          Math.round(settle)
        } ms after the last restart`,
      );
      assert.equal(ledger.failed.size, 0, `no command fails: ${ledger.failureSummary()}`);
      await assertStates(client, typeName, ids, verdict.states, CLIENT_TIMEOUT);
    } finally {
      await Promise.all(hosts.map((host) => host.kill()));
      await scenario.close();
    }
  },
);
