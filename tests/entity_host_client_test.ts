// EntityClient against real EntityHosts (in this process, each on its own connection; the
// client over WebSocket as an edge function would): results of every kind, hosts() and a
// rolling restart of every host under load that fails no command, loses none and applies none
// twice.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { EntityClient } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  accountCommands,
  eventually,
  GatedLog,
  ownedShards,
  startHost,
  type TestHost,
  uniqueCluster,
} from "./_cluster.ts";

let server: NatsTestServer;
let nc: NatsConnection;

before(async () => {
  server = await startNatsServer({ own: true });
  nc = await wsconnect({ servers: server.wsUrl });
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

test("EntityHost with EntityClient: replies, rejections and duplicates, and hosts() lists the hosts", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const hosts = [
    await startHost(server.tcpUrl!, cluster, log, { hostId: "h1" }),
    await startHost(server.tcpUrl!, cluster, log, { hostId: "h2" }),
  ];
  try {
    const client = new EntityClient(nc, { cluster, entities: { account: accountCommands } });
    assert.deepEqual(
      await client.send("account", "ann", "deposit", { amount: 50 }, { commandId: "d1" }),
      { ok: true, value: 50 },
    );
    assert.deepEqual(
      await client.send("account", "ann", "withdraw", { amount: 80 }),
      { ok: false, error: { code: "InsufficientFunds", balance: 50 } },
    );
    // The kept answer of d1 comes back while it is kept; a command id persisted earlier but
    // not kept here (another host answered it) is a duplicate.
    assert.deepEqual(
      await client.send("account", "ann", "deposit", { amount: 50 }, { commandId: "d1" }),
      { ok: true, value: 50 },
    );
    await log.inner.persist("account", "ann", 1, [
      new TextEncoder().encode(JSON.stringify({ type: "deposited", amount: 1 })),
    ], { metadata: { commandId: "elsewhere" } });
    assert.deepEqual(
      await client.send("account", "ann", "deposit", { amount: 1 }, { commandId: "elsewhere" }),
      { ok: true, duplicate: true, value: undefined, seqNo: 2 },
    );
    await eventually("8 shards each", () => ownedShards(hosts).every((s) => s.length === 8));
    const listed = await client.hosts();
    assert.deepEqual(listed, hosts.map((h) => h.host.status()));
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
});

test("EntityHost with EntityClient: a rolling restart of every host under load fails no command, loses none, applies none twice", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const url = server.tcpUrl!;
  let generation = 0;
  const start = () => startHost(url, cluster, log, { hostId: `host-${++generation}` });
  const hosts: TestHost[] = [await start(), await start(), await start()];
  try {
    await eventually("every shard is served", () => ownedShards(hosts).flat().length === 16);
    const client = new EntityClient(nc, { cluster, entities: { account: accountCommands } });
    const ids = Array.from({ length: 32 }, (_, i) => `roll-${i}`);
    const acked = new Map(ids.map((id) => [id, 0]));
    const failures: unknown[] = [];
    let running = true;
    const workers = ids.map(async (id) => {
      for (let i = 0; running; i++) {
        try {
          const result = await client.send("account", id, "deposit", { amount: 1 }, {
            commandId: `${id}/${i}`,
          });
          if (result.ok) acked.set(id, acked.get(id)! + 1);
          else failures.push(result);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const leaving = hosts.shift()!;
      await leaving.stop();
      hosts.push(await start());
    }
    await eventually("every shard is served", () => ownedShards(hosts).flat().length === 16);
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(workers);

    let lost = 0;
    let duplicated = 0;
    for (const id of ids) {
      const seen = new Set<string>();
      let events = 0;
      for await (const event of log.inner.eventsById("account", id, 1)) {
        events++;
        const commandId = event.metadata.commandId!;
        if (seen.has(commandId)) duplicated++;
        seen.add(commandId);
      }
      lost += Math.max(0, acked.get(id)! - seen.size);
      assert.equal(events, acked.get(id), id);
    }
    const total = [...acked.values()].reduce((a, b) => a + b, 0);
    console.log(`rolling restart: ${total} acknowledged, lost ${lost}, duplicated ${duplicated}`);
    assert.deepEqual(failures, []);
    assert.equal(lost, 0);
    assert.equal(duplicated, 0);
    assert.ok(total > ids.length);
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
});
