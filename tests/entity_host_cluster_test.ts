// Several EntityHosts of one cluster in one process, each on its own connection to a real
// nats-server: they split the shards fairly, a joining host takes its share without the other
// shards moving, a stopping host hands its shards over without losing a command, and a host
// whose lease key is written or deleted behind its back stops serving that shard at once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { commandSet, jsonBinarize } from "../mod.ts";
import { hostedEntity } from "../adapters/nats/mod.ts";
import {
  account,
  accountCommands,
  type AccountEvent,
  eventually,
  GatedLog,
  ownedShards,
  rawSend,
  sendRetrying,
  startHost,
  type TestHost,
  uniqueCluster,
} from "./_cluster.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";
import { hostKey, leaseBucket, shardKey } from "../adapters/nats/_cluster_protocol.ts";

let server: NatsTestServer;
let url: string;
let client: NatsConnection;

before(async () => {
  server = await startNatsServer({ own: true });
  url = server.tcpUrl!;
  client = await connect({ servers: url });
});

after(async () => {
  await client?.close();
  await server?.dispose();
});

const binarize = jsonBinarize<AccountEvent, number>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stopAll(hosts: readonly TestHost[]): Promise<void> {
  await Promise.allSettled(hosts.map((host) => host.stop()));
}

function assertDisjoint(owned: number[][], shards: number): void {
  const all = owned.flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: shards }, (_, i) => i), `owned: ${owned}`);
}

/** An id of shard `shard` among `shards`. */
function idOfShard(shard: number, shards: number, prefix = "id"): string {
  for (let i = 0;; i++) if (shardOf(`${prefix}${i}`, shards) === shard) return `${prefix}${i}`;
}

async function leaseHolders(cluster: string, shards: number): Promise<(string | undefined)[]> {
  const kv = await new Kvm(jetstream(client)).open(leaseBucket(cluster));
  const holders: (string | undefined)[] = [];
  for (let n = 0; n < shards; n++) {
    const entry = await kv.get(shardKey("account", n));
    holders.push(entry?.operation === "PUT" ? entry.json<{ host: string }>().host : undefined);
  }
  return holders;
}

test("EntityHost: three hosts split 64 shards 22/21/21 or 22/22/20, stay so, and every entity answers from its owner", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const hosts = await Promise.all(
    ["a", "b", "c"].map((hostId) => startHost(url, cluster, log, { hostId, shards: 64 })),
  );
  try {
    const fair = () => {
      const counts = ownedShards(hosts).map((s) => s.length).sort();
      return ["20,22,22", "21,21,22"].includes(counts.join());
    };
    await eventually("the shards are split fairly", fair, 30_000);
    const settled = ownedShards(hosts);
    assertDisjoint(settled, 64);
    await sleep(1_500); // four rebalancing ticks
    assert.deepEqual(ownedShards(hosts), settled);

    const holders = await leaseHolders(cluster, 64);
    for (let n = 0; n < 64; n++) {
      const owner = ["a", "b", "c"][settled.findIndex((shards) => shards.includes(n))];
      assert.equal(holders[n], owner, `lease of shard ${n}`);
    }
    for (let i = 0; i < 128; i++) {
      const id = `acct-${i}`;
      const answer = await rawSend(client, cluster, id, "deposit", { amount: 1 }, { shards: 64 });
      assert.equal(answer.status, "ok", id);
      assert.equal(answer.host, holders[shardOf(id, 64)], id);
    }
    const status = hosts.map((h) => h.host.status());
    assert.equal(status.reduce((sum, s) => sum + s.commands, 0), 128);
    assert.equal(status.reduce((sum, s) => sum + s.types.account!.entities, 0), 128);
  } finally {
    await stopAll(hosts);
  }
});

test("EntityHost: a joining host takes its share from the others and no other shard moves", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const hosts = [await startHost(url, cluster, log, { hostId: "a" })];
  try {
    hosts.push(await startHost(url, cluster, log, { hostId: "b" }));
    await eventually("a and b own 8 each", () => ownedShards(hosts).every((s) => s.length === 8));
    const [beforeA, beforeB] = ownedShards(hosts);
    hosts.push(await startHost(url, cluster, log, { hostId: "c" }));
    await eventually(
      "c has its share",
      () => ["4,6,6", "5,5,6"].includes(ownedShards(hosts).map((s) => s.length).sort().join()),
    );
    const [afterA, afterB, afterC] = ownedShards(hosts);
    assertDisjoint([afterA!, afterB!, afterC!], 16);
    // a and b only gave shards away (to c), never took one from each other.
    assert.ok(afterA!.every((n) => beforeA!.includes(n)), `${afterA} ⊆ ${beforeA}`);
    assert.ok(afterB!.every((n) => beforeB!.includes(n)), `${afterB} ⊆ ${beforeB}`);
    for (let n = 0; n < 16; n++) {
      const answer = await sendRetrying(client, cluster, idOfShard(n, 16), "balance", undefined);
      assert.equal(answer.status, "ok");
    }
  } finally {
    await stopAll(hosts);
  }
});

test("EntityHost: a host that stops hands its shards over: commands go on, its leases are gone at once, nothing is lost", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const a = await startHost(url, cluster, log, { hostId: "a" });
  const b = await startHost(url, cluster, log, { hostId: "b" });
  try {
    await eventually("a and b own 8 each", () => ownedShards([a, b]).every((s) => s.length === 8));
    const ids = Array.from({ length: 8 }, (_, i) => `load-${i}`);
    const acked = new Map(ids.map((id) => [id, 0]));
    let running = true;
    let failures = 0;
    const workers = ids.map(async (id) => {
      for (let i = 0; running; i++) {
        try {
          const answer = await sendRetrying(client, cluster, id, "deposit", { amount: 1 }, {
            commandId: `${id}-${i}`,
          });
          if (answer.status === "ok" || answer.status === "duplicate") {
            acked.set(id, acked.get(id)! + 1);
          } else failures++;
        } catch {
          failures++;
        }
      }
    });
    await sleep(500);
    await a.host.stop();
    // Released at once: no lease names a, b's view learns of each release right away.
    const holders = await leaseHolders(cluster, 16);
    assert.ok(!holders.includes("a"), `holders: ${holders}`);
    const kv = await new Kvm(jetstream(client)).open(leaseBucket(cluster));
    assert.equal((await kv.get(hostKey("a")))?.operation ?? "gone", "DEL");
    await eventually("b owns every shard", () => ownedShards([b])[0]!.length === 16, 5_000);
    await sleep(500);
    running = false;
    await Promise.all(workers);
    assert.equal(failures, 0);
    for (const id of ids) {
      const balance = await sendRetrying(client, cluster, id, "balance", undefined);
      assert.equal(balance.body, acked.get(id), id);
      assert.ok(acked.get(id)! > 0);
    }
    assert.deepEqual(a.errors, []);
  } finally {
    await stopAll([a, b]);
  }
});

test("EntityHost: a host whose lease key is written or deleted behind its back stops serving the shard at once", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const a = await startHost(url, cluster, log, { hostId: "a" });
  try {
    await eventually("a owns every shard", () => ownedShards([a])[0]!.length === 16);
    const kv = await new Kvm(jetstream(client)).open(leaseBucket(cluster));
    const id = idOfShard(3, 16);
    // The status counts a shard as owned once its subscription is made; the server may see it
    // a moment later, so the first request may meet no responders.
    assert.equal((await sendRetrying(client, cluster, id, "deposit", { amount: 1 })).status, "ok");

    await kv.put(shardKey("account", 3), JSON.stringify({ host: "intruder" }));
    await eventually("a dropped shard 3", () => !ownedShards([a])[0]!.includes(3), 2_000);
    // a stopped serving before its next renewal would have told it: no responders, or a
    // request delivered before a's unsubscribe reached the server answered not-owner.
    const refused = await rawSend(client, cluster, id, "deposit", { amount: 1 }).catch((e) => e);
    if (refused instanceof Error) assert.match(refused.message, /no responders/i);
    else assert.deepEqual([refused.status, refused.reason], ["failed", "not-owner"]);

    await kv.delete(shardKey("account", 7));
    await eventually("a dropped shard 7", () => !ownedShards([a])[0]!.includes(7), 2_000);
    // a keeps off both for two lease times, then takes them back (the intruder's expired).
    await eventually("a serves 3 and 7 again", () => {
      const owned = ownedShards([a])[0]!;
      return owned.includes(3) && owned.includes(7);
    }, 10_000);
    const answer = await sendRetrying(client, cluster, id, "deposit", { amount: 1 });
    assert.deepEqual([answer.status, answer.body], ["ok", 2]);
    assert.equal(a.errors.length, 2);
    assert.match(String(a.errors[0]), /lost the lease "shard\.account\.3" \(taken or deleted\)/);
  } finally {
    await a.stop();
  }
});

test("EntityHost: shards are shared per entity type among the hosts serving that type", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const ledger = commandSet({ ...account, typeName: "ledger" }, accountCommands.commands);
  const both = {
    entities: [
      hostedEntity(accountCommands, { eventLog: log, binarize }),
      hostedEntity(ledger, { eventLog: log, binarize }),
    ],
  };
  const a = await startHost(url, cluster, log, { hostId: "a", ...both });
  const b = await startHost(url, cluster, log, { hostId: "b" });
  try {
    await eventually("account is split, ledger stays on a", () => {
      const [sa, sb] = [a.host.status().types, b.host.status().types];
      return sa.account!.shards.length === 8 && sb.account!.shards.length === 8 &&
        sa.ledger!.shards.length === 16 && sb.ledger === undefined;
    });
    const answer = await sendRetrying(client, cluster, "x", "deposit", { amount: 2 }, {
      headers: { "Es-Type": "ledger" },
      subjectType: "ledger",
    });
    assert.deepEqual([answer.status, answer.body, answer.host], ["ok", 2, "a"]);
  } finally {
    await stopAll([a, b]);
  }
});

test("EntityHost: the shards of a host that vanishes (connection gone, no stop) are taken over once its leases expire", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const a = await startHost(url, cluster, log, { hostId: "a" });
  const b = await startHost(url, cluster, log, { hostId: "b" });
  try {
    await eventually("a and b own 8 each", () => ownedShards([a, b]).every((s) => s.length === 8));
    const lostShards = ownedShards([a])[0]!;
    const ids = lostShards.map((n) => idOfShard(n, 16, "gone"));
    for (const id of ids) {
      assert.equal(
        (await sendRetrying(client, cluster, id, "deposit", { amount: 1 })).status,
        "ok",
      );
    }
    await a.nc.close(); // a crash as the cluster sees it: no renewal, no release
    // a stops serving by its own clock before the server expires its leases.
    await eventually("a dropped its shards", () => ownedShards([a])[0]!.length === 0, 5_000);
    await eventually("b owns every shard", () => ownedShards([b])[0]!.length === 16, 10_000);
    for (const id of ids) {
      const answer = await sendRetrying(client, cluster, id, "deposit", { amount: 1 });
      assert.deepEqual([answer.status, answer.body, answer.host], ["ok", 2, "b"], id);
    }
    assert.equal(a.errors.filter((e) => /lost the lease/.test(String(e))).length, 8);
  } finally {
    await a.host.stop({ timeout: 1_000 }).catch(() => {});
    await b.stop();
  }
});
