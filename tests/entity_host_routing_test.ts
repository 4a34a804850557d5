// EntityHost answers commands routed to the shards it owns, over a real nats-server: replies,
// rejections and duplicates, every kind of bad request with its reason, a full mailbox at once,
// an expired deadline without running, and a retried command id joining the first.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  eventually,
  GatedLog,
  ownedShards,
  rawSend,
  startHost,
  type TestHost,
  uniqueCluster,
} from "./_cluster.ts";
import { shardOf } from "../adapters/nats/_shard_hash.ts";
import { configSubject } from "../adapters/nats/_cluster_protocol.ts";

let server: NatsTestServer;
let url: string;
let cluster: string;
let log: GatedLog;
let one: TestHost;
let client: NatsConnection;

before(async () => {
  server = await startNatsServer({ own: true });
  url = server.tcpUrl!;
  cluster = uniqueCluster();
  log = new GatedLog();
  // One host, so losing a lease is not what is tested here: a long lease keeps a loaded CI
  // machine from dropping a shard between two steps of a test.
  one = await startHost(url, cluster, log, {
    hostId: "one",
    commandBufferSize: 2,
    leaseTtl: 10_000,
  });
  client = await connect({ servers: url });
  await eventually("the host owns every shard", () => ownedShards([one])[0]!.length === 16);
});

after(async () => {
  await one?.stop();
  await client?.close();
  await server?.dispose();
});

async function events(id: string): Promise<unknown[]> {
  const found: unknown[] = [];
  for await (const event of log.inner.eventsById("account", id, 1)) found.push(event.metadata);
  return found;
}

test("EntityHost: a command is answered by the owner with its reply, rejection or duplicate", async () => {
  const deposit = await rawSend(client, cluster, "alice", "deposit", { amount: 100 }, {
    commandId: "c-1",
  });
  assert.equal(deposit.status, "ok");
  assert.equal(deposit.body, 100);
  assert.equal(deposit.host, "one");

  const rejected = await rawSend(client, cluster, "alice", "withdraw", { amount: 500 });
  assert.equal(rejected.status, "rejected");
  assert.deepEqual(rejected.body, { code: "InsufficientFunds", balance: 100 });

  const balance = await rawSend(client, cluster, "alice", "balance", undefined);
  assert.deepEqual([balance.status, balance.body], ["ok", 100]);

  // The same id again after the reply came: the kept answer, not a second deposit.
  const again = await rawSend(client, cluster, "alice", "deposit", { amount: 100 }, {
    commandId: "c-1",
  });
  assert.deepEqual([again.status, again.body], ["ok", 100]);
  assert.equal((await events("alice")).length, 1);
  assert.deepEqual((await events("alice"))[0], { commandId: "c-1" });
});

test("EntityHost: a command id the entity already persisted, not kept as an answer here, is a duplicate", async () => {
  await log.inner.persist("account", "bob", null, [
    new TextEncoder().encode(JSON.stringify({ type: "deposited", amount: 5 })),
  ], { metadata: { commandId: "earlier" } });
  const answer = await rawSend(client, cluster, "bob", "deposit", { amount: 5 }, {
    commandId: "earlier",
  });
  assert.equal(answer.status, "duplicate");
  assert.equal(answer.seqNo, "1");
  assert.equal((await events("bob")).length, 1);
});

test("EntityHost: bad requests are refused with their reason before anything is written", async () => {
  const cases: [string, Parameters<typeof rawSend>, string, RegExp][] = [
    [
      "unknown command",
      [client, cluster, "carol", "transfer", {}],
      "unknown-command",
      /no command "transfer" \(it has deposit, withdraw, balance\)/,
    ],
    [
      "missing command",
      [client, cluster, "carol", "deposit", {}, { headers: { "Es-Command": undefined } }],
      "unknown-command",
      /no command ""/,
    ],
    [
      "type not of the subject",
      [client, cluster, "carol", "deposit", { amount: 1 }, { headers: { "Es-Type": "order" } }],
      "unknown-command",
      /"order" came on the subject of "account"/,
    ],
    [
      "payload the codec cannot decode",
      [client, cluster, "carol", "deposit", undefined, { body: new TextEncoder().encode("{") }],
      "bad-payload",
      /Invalid payload of "deposit"/,
    ],
    [
      "payload the factory refuses",
      [client, cluster, "carol", "deposit", { amount: -1 }],
      "bad-payload",
      /amount must be a positive number/,
    ],
    [
      "id missing",
      [client, cluster, "carol", "deposit", { amount: 1 }, { headers: { "Es-Id": undefined } }],
      "invalid-id",
      /Es-Id is missing/,
    ],
    [
      "id not percent-encoded UTF-8",
      [client, cluster, "carol", "deposit", { amount: 1 }, {
        headers: { "Es-Id": "%E0%A4%A" },
        shard: 0,
      }],
      "invalid-id",
      /Invalid id/,
    ],
    [
      "id too long",
      [client, cluster, "x".repeat(300), "deposit", { amount: 1 }],
      "invalid-id",
      /300 characters/,
    ],
    [
      "id of another shard",
      [client, cluster, "carol", "deposit", { amount: 1 }, {
        shard: (shardOf("carol", 16) + 1) % 16,
      }],
      "invalid-id",
      new RegExp(
        `belongs to shard ${shardOf("carol", 16)}, it came to shard ${
          (shardOf("carol", 16) + 1) % 16
        }`,
      ),
    ],
    [
      "metadata header malformed",
      [client, cluster, "carol", "deposit", { amount: 1 }, {
        headers: { "Es-Correlation-Id": "%ZZ" },
      }],
      "bad-payload",
      /Invalid metadata: header Es-Correlation-Id/,
    ],
    [
      "metadata too long",
      [client, cluster, "carol", "deposit", { amount: 1 }, { commandId: "c".repeat(300) }],
      "bad-payload",
      /commandId .* 300 characters/,
    ],
    [
      "timeout not a number",
      [client, cluster, "carol", "deposit", { amount: 1 }, {
        headers: { "Es-Timeout": "soon" },
      }],
      "bad-payload",
      /Es-Timeout "soon"/,
    ],
    [
      "deadline already passed",
      [client, cluster, "carol", "deposit", { amount: 1 }, { headers: { "Es-Timeout": "0" } }],
      "aborted",
      /deadline has passed/,
    ],
  ];
  for (const [what, args, reason, message] of cases) {
    const answer = await rawSend(...args);
    assert.equal(answer.status, "failed", what);
    assert.equal(answer.reason, reason, what);
    assert.match(answer.text, message, what);
    assert.equal(answer.host, "one", what);
  }
  assert.equal((await events("carol")).length, 0);
  assert.equal(log.calls.persist, 1); // alice's deposit and nothing since
});

test("EntityHost: a full mailbox answers at once, a deadline that passes in the queue does not start", async () => {
  const open = log.hold();
  try {
    // One running (held in persist), two waiting: the mailbox of 2 is full.
    const running = rawSend(client, cluster, "dave", "deposit", { amount: 1 });
    const waiting = [
      rawSend(client, cluster, "dave", "deposit", { amount: 2 }, { timeout: 300 }).catch((e) => e),
      rawSend(client, cluster, "dave", "deposit", { amount: 3 }),
    ];
    await eventually("the first deposit is held", () => log.started === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const full = await rawSend(client, cluster, "dave", "deposit", { amount: 4 });
    assert.equal(full.status, "failed");
    assert.equal(full.reason, "mailbox-full");
    // The caller of the second gave up after 300 ms; its command must not run later.
    await waiting[0];
    await new Promise((resolve) => setTimeout(resolve, 400));
    open();
    assert.deepEqual([(await running).status, (await running).body], ["ok", 1]);
    const third = await waiting[1];
    assert.deepEqual([third.status, third.body], ["ok", 4]);
  } finally {
    open();
  }
  const amounts = [];
  for await (const event of log.inner.eventsById("account", "dave", 1)) {
    amounts.push(JSON.parse(new TextDecoder().decode(event.bytes)).amount);
  }
  assert.deepEqual(amounts, [1, 3]);
});

test("EntityHost: a retry of a running command id joins it instead of queueing a copy", async () => {
  const open = log.hold();
  let first, second;
  try {
    first = rawSend(client, cluster, "erin", "deposit", { amount: 7 }, { commandId: "same" });
    await eventually("the deposit is held", () => log.started === 4);
    second = rawSend(client, cluster, "erin", "deposit", { amount: 7 }, { commandId: "same" });
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    open();
  }
  const answers = await Promise.all([first, second]);
  assert.deepEqual(answers.map((a) => [a.status, a.body]), [["ok", 7], ["ok", 7]]);
  assert.equal((await events("erin")).length, 1);
  assert.equal(log.calls.persist, 4);
});

test("EntityHost: any host answers the cluster's configuration", async () => {
  const answer = await client.request(configSubject(cluster), undefined, { timeout: 2_000 });
  assert.deepEqual(answer.json(), { shards: 16, hash: "fnv1a32-utf8", leaseTtl: 10_000 });
});
