// EntityHost's options and the cluster's stored configuration, the NATS service discovery
// answers, the event log as the fence, and what stop() leaves behind.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { commandSet, emit, isStorageError, jsonBinarize, MemoryEventLog } from "../mod.ts";
import { EntityHost, hostedEntity } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  account,
  accountCommands,
  type AccountEvent,
  eventually,
  GatedLog,
  ownedShards,
  rawSend,
  startHost,
  uniqueCluster,
} from "./_cluster.ts";
import {
  CONFIG_KEY,
  configBucket,
  type HostStatus,
  leaseBucket,
  serviceName,
  shardKey,
} from "../adapters/nats/_cluster_protocol.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";

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
const entry = () => hostedEntity(accountCommands, { eventLog: new MemoryEventLog(), binarize });

test("EntityHost: bad options are refused with what is wrong before the connection is used", async () => {
  const untouchable = new Proxy({}, {
    get: () => {
      throw new Error("the connection was used");
    },
  }) as NatsConnection;
  const other = commandSet({ ...account }, {
    deposit: () => ({
      handleCommand: () => emit({ type: "deposited", amount: 1 } as AccountEvent),
    }),
  });
  const cases: [string, unknown, RegExp][] = [
    ["no options", undefined, /Missing EntityHost option cluster/],
    ["no cluster", { entities: [entry()] }, /Missing EntityHost option cluster/],
    ["bad cluster", { cluster: "a.b", entities: [entry()] }, /option cluster "a\.b"/],
    ["no entities", { cluster: "c" }, /Missing EntityHost option entities/],
    ["empty entities", { cluster: "c", entities: [] }, /non-empty array/],
    ["unknown option", { cluster: "c", entities: [entry()], shard: 3 }, /Unknown.*"shard"/],
    ["bad hostId", { cluster: "c", entities: [entry()], hostId: "h.1" }, /hostId "h\.1"/],
    ["shards 0", { cluster: "c", entities: [entry()], shards: 0 }, /shards 0.*1 to 4096/],
    ["short lease", { cluster: "c", entities: [entry()], leaseTtl: 500 }, /leaseTtl 500/],
    ["bad onError", { cluster: "c", entities: [entry()], onError: 1 }, /onError 1/],
    ["entry not an object", { cluster: "c", entities: [3] }, /entities\[0\] 3/],
    [
      "entry without a command set",
      { cluster: "c", entities: [{ eventLog: new MemoryEventLog(), binarize }] },
      /entities\[0\] option commands.*commandSet/,
    ],
    [
      "entry without an event log",
      { cluster: "c", entities: [{ commands: accountCommands, binarize }] },
      /entities\[0\] \("account"\): Missing EntityRegistry option eventLog/,
    ],
    [
      "entry with a bad registry option",
      { cluster: "c", entities: [{ ...entry(), passivateAfter: -1 }] },
      /entities\[0\] \("account"\).*passivateAfter -1/,
    ],
    [
      "type twice",
      {
        cluster: "c",
        entities: [entry(), { commands: other, eventLog: new MemoryEventLog(), binarize }],
      },
      /entities\[1\]: entity type "account" is already hosted by entities\[0\]/,
    ],
  ];
  for (const [what, options, message] of cases) {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      EntityHost.start(untouchable, options as any),
      (error: Error) => {
        assert.ok(error instanceof TypeError || error instanceof RangeError, what);
        assert.match(error.message, message, what);
        return true;
      },
    );
  }
  await assert.rejects(
    EntityHost.start({} as NatsConnection, { cluster: "c", entities: [entry()] }),
    /Invalid EntityHost connection/,
  );
  // hostedEntity checks at compile time that the binarize fits the set's events and state.
  hostedEntity(accountCommands, {
    eventLog: new MemoryEventLog(),
    // @ts-expect-error: a Binarize of strings does not fit the account's events
    binarize: jsonBinarize<string, string>(),
  });
});

test("EntityHost: a host configured with other shards or leaseTtl than the cluster's is refused", async () => {
  const cluster = uniqueCluster();
  const first = await startHost(url, cluster, new GatedLog(), { shards: 16, leaseTtl: 1_000 });
  try {
    for (
      const [options, message] of [
        [{ shards: 32 }, /with shards 32: the cluster was created with shards 16/],
        [{ leaseTtl: 2_000 }, /with leaseTtl 2000: the cluster was created with leaseTtl 1000/],
      ] as const
    ) {
      await assert.rejects(startHost(url, cluster, new GatedLog(), options), (error) => {
        assert.ok(isStorageError(error) && error.reason === "invalid-configuration");
        assert.match(error.message, message);
        return true;
      });
    }
    // Without shards and leaseTtl a host takes the cluster's.
    const nc = await connect({ servers: url });
    try {
      const host = await EntityHost.start(nc, { cluster, entities: [entry()], hostId: "plain" });
      await host.stop();
    } finally {
      await nc.close();
    }
  } finally {
    await first.stop();
  }
  // A configuration with another hash, and a lease bucket with another max_age, are refused.
  const kvm = new Kvm(jetstream(client));
  const foreign = uniqueCluster();
  const config = await kvm.create(configBucket(foreign), { history: 1 });
  await config.put(CONFIG_KEY, JSON.stringify({ shards: 8, hash: "murmur3", leaseTtl: 1_000 }));
  await assert.rejects(
    startHost(url, foreign, new GatedLog(), { shards: undefined, leaseTtl: undefined }),
    /uses the shard hash "murmur3", this host only knows "fnv1a32-utf8"/,
  );
  const odd = uniqueCluster();
  await kvm.create(leaseBucket(odd), { history: 1, ttl: 5_000 });
  await assert.rejects(
    startHost(url, odd, new GatedLog()),
    /has max_age 5000 ms, cluster "t[0-9a-f]+" has leaseTtl 2000 ms/,
  );
});

test("EntityHost: each host answers $SRV PING, INFO and STATS with its status", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const hosts = [
    await startHost(url, cluster, log, { hostId: "h1" }),
    await startHost(url, cluster, log, { hostId: "h2" }),
  ];
  try {
    await eventually("8 shards each", () => ownedShards(hosts).every((s) => s.length === 8));
    assert.equal((await rawSend(client, cluster, "zed", "deposit", { amount: 1 })).status, "ok");
    const name = serviceName(cluster);
    const ask = async (subject: string) => {
      const answers = [];
      for await (
        const msg of await client.requestMany(subject, undefined, {
          maxWait: 1_000,
          strategy: "timer",
        })
      ) answers.push(msg.json<Record<string, unknown>>());
      return answers.sort((a, b) => String(a.id).localeCompare(String(b.id)));
    };
    const pings = await ask(`$SRV.PING.${name}`);
    assert.deepEqual(
      pings,
      ["h1", "h2"].map((id) => ({
        type: "io.nats.micro.v1.ping_response",
        name,
        id,
        version: "0.1.0",
        metadata: {},
      })),
    );
    assert.equal((await ask("$SRV.PING")).filter((p) => p.name === name).length, 2);
    const [info] = await ask(`$SRV.INFO.${name}.h2`);
    assert.equal(info!.type, "io.nats.micro.v1.info_response");
    assert.equal(info!.id, "h2");
    assert.deepEqual(info!.endpoints, [{
      name: "commands",
      subject: `es.cluster.${cluster}.cmd.>`,
      queue_group: "owner",
      metadata: {},
    }]);
    const stats = await ask(`$SRV.STATS.${name}`);
    assert.equal(stats.length, 2);
    const statuses = stats.map((s) => {
      assert.equal(s.type, "io.nats.micro.v1.stats_response");
      const [endpoint] = s.endpoints as Record<string, unknown>[];
      assert.equal(endpoint!.name, "commands");
      assert.equal(endpoint!.last_error, "");
      assert.equal(typeof endpoint!.processing_time, "number");
      return endpoint!.data as HostStatus;
    });
    assert.deepEqual(statuses, hosts.map((h) => h.host.status()));
    const owner = statuses.find((s) => s.types.account!.shards.includes(shardOf("zed", 16)))!;
    assert.equal(owner.commands, 1);
    assert.equal(owner.types.account!.entities, 1);
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
});

test("EntityHost: a write behind a live entity's back fails its command as persist-failed; the lease being still ours, the shard stays and the retry succeeds", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const a = await startHost(url, cluster, log, { hostId: "a" });
  try {
    await eventually("a owns every shard", () => ownedShards([a])[0]!.length === 16);
    assert.equal((await rawSend(client, cluster, "fay", "deposit", { amount: 1 })).status, "ok");
    const event = new TextEncoder().encode(JSON.stringify({ type: "deposited", amount: 10 }));
    await log.inner.persist("account", "fay", 1, [event]);
    const conflict = await rawSend(client, cluster, "fay", "deposit", { amount: 1 });
    assert.deepEqual([conflict.status, conflict.reason], ["failed", "persist-failed"]);
    assert.ok(ownedShards([a])[0]!.includes(shardOf("fay", 16)));
    const retry = await rawSend(client, cluster, "fay", "deposit", { amount: 1 });
    assert.deepEqual([retry.status, retry.body], ["ok", 12]);
  } finally {
    await a.stop();
  }
});

test("EntityHost: stop() with no time left abandons a busy shard (its lease expires) and leaves no subscription", async () => {
  const cluster = uniqueCluster();
  const log = new GatedLog();
  const nc = await connect({ servers: url });
  // The subjects nc is subscribed to, less the one inbox all its requests share.
  const subscriptions = () =>
    (nc as unknown as { protocol: { subscriptions: { all(): { subject: string }[] } } })
      .protocol.subscriptions.all().map((s) => s.subject).filter((s) => !s.startsWith("_INBOX."));
  try {
    const host = await EntityHost.start(nc, {
      cluster,
      shards: 4,
      leaseTtl: 1_000,
      hostId: "busy",
      entities: [hostedEntity(accountCommands, { eventLog: log, binarize })],
    });
    await eventually(
      "busy owns every shard",
      () => host.status().types.account!.shards.length === 4,
    );
    const open = log.hold();
    const held = rawSend(client, cluster, "gus", "deposit", { amount: 1 }, { shards: 4 }).catch((
      e,
    ) => e);
    await eventually("the deposit is held", () => log.started === 1);
    await host.stop({ timeout: 0 });
    assert.deepEqual(host.status().types.account!.shards, []);
    const kv = await new Kvm(jetstream(client)).open(leaseBucket(cluster));
    const lease = await kv.get(shardKey("account", shardOf("gus", 4)));
    assert.equal(lease?.operation, "PUT"); // abandoned, not deleted
    open();
    await held;
    await eventually("no subscription is left", () => subscriptions().length === 0, 5_000)
      .catch((error) => assert.fail(`${error.message}: ${subscriptions()}`));
    await eventually(
      "the abandoned lease expired",
      async () => (await kv.get(shardKey("account", shardOf("gus", 4)))) === null,
      5_000,
    );
  } finally {
    await nc.close();
  }
});
