// Least privilege on NATS: a nats-server whose users have exactly the permissions of
// natsPermissions(role). Every role does its job over the adapters; every forbidden action fails
// with the server's permissions violation (not a timeout) and the admin sees nothing written.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { emitAndReply, jsonBinarize, type PersistedEvent, spawn } from "../mod.ts";
import { Projection } from "../projection/mod.ts";
import {
  EntityClient,
  EntityHost,
  hostedEntity,
  NatsEventLog,
  NatsOffsetStore,
  type NatsPermissions,
  natsPermissions,
  NatsSnapshotStore,
} from "../adapters/nats/mod.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { account, accountCommands, type AccountEvent } from "./_cluster.ts";

const CLUSTER = "perms";
const binarize = jsonBinarize<AccountEvent, number>();
const encoder = new TextEncoder();

const users: Record<string, NatsPermissions | undefined> = {
  admin: undefined,
  writer: natsPermissions("writer", { types: ["account"] }),
  reader: natsPermissions("reader"),
  projection: natsPermissions("projection", { projections: ["balances"] }),
  host: natsPermissions("cluster-host", { cluster: CLUSTER, types: ["account"], hostId: "h1" }),
  client: natsPermissions("cluster-client", { cluster: CLUSTER, types: ["account"] }),
  // Custom names, and an inbox prefix of its own that no other user may subscribe to.
  shop: natsPermissions("writer", {
    stream: "shop",
    subjectPrefix: "shop.events",
    snapshotBucket: "shop-snapshots",
    types: ["cart"],
    inboxPrefix: "_INBOX_shop",
  }),
  // A reader that connects with the adapters' own connect() over WebSocket.
  ownInbox: natsPermissions("reader", { inboxPrefix: "_INBOX_own" }),
};

let server: NatsTestServer;
const connections: NatsConnection[] = [];
let admin: NatsConnection;
let jsm: JetStreamManager;

/**
 * A nats-server `authorization` block of `users`, each with the password `<user>-secret`: the
 * format the README shows.
 */
function authorizationBlock(users: Record<string, NatsPermissions | undefined>): string {
  const list = (subjects: readonly string[]) =>
    subjects.map((subject) => `        ${JSON.stringify(subject)}`).join(",\n");
  const entries = Object.entries(users).map(([user, permissions]) => {
    const head = `    { user: "${user}", password: "${user}-secret"`;
    if (permissions === undefined) return `${head} }`;
    return [
      `${head}, permissions: {`,
      `      publish: { allow: [`,
      list(permissions.publish.allow),
      `      ] }`,
      `      subscribe: { allow: [`,
      list(permissions.subscribe.allow),
      `      ] }`,
      ...(permissions.allow_responses ? [`      allow_responses: true`] : []),
      `    } }`,
    ].join("\n");
  });
  return `authorization {\n  users = [\n${entries.join("\n")}\n  ]\n}\n`;
}

async function connectAs(user: string, inboxPrefix?: string): Promise<NatsConnection> {
  const nc = await connect({
    servers: server.tcpUrl!,
    user,
    pass: `${user}-secret`,
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
  });
  connections.push(nc);
  return nc;
}

before(async () => {
  server = await startNatsServer({ extraConfig: authorizationBlock(users) });
  admin = await connectAs("admin");
  jsm = await jetstream(admin).jetstreamManager();
  // Setup is the admin's: the stream, the buckets, and the cluster's configuration and lease
  // bucket (made by the cluster's first host, started and stopped once by the admin).
  const log = new NatsEventLog(admin);
  await log.setup({ storage: "memory" });
  await new NatsSnapshotStore(admin).setup({ storage: "memory" });
  await new NatsOffsetStore(admin).setup({ storage: "memory" });
  await new NatsEventLog(admin, { stream: "shop", subjectPrefix: "shop.events" }).setup({
    storage: "memory",
  });
  await new NatsSnapshotStore(admin, { bucket: "shop-snapshots" }).setup({ storage: "memory" });
  const first = await EntityHost.start(admin, {
    cluster: CLUSTER,
    shards: 4,
    leaseTtl: 3_000,
    entities: [hostedEntity(accountCommands, { eventLog: log, binarize })],
  });
  await first.stop();
});

after(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await server?.dispose();
});

/**
 * What the admin sees of every stream: its message count and last sequence. The lease bucket is
 * left out: a running host renews its leases there.
 */
async function stored(): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for await (const info of jsm.streams.list()) {
    if (info.config.name === `KV_es-cluster-${CLUSTER}-leases`) continue;
    seen[info.config.name] = `${info.state.messages}@${info.state.last_seq}`;
  }
  return seen;
}

/** `action` fails because the server refused a publish to `subject` for lack of permission. */
async function assertDenied(action: () => Promise<unknown>, subject: string): Promise<void> {
  const before = await stored();
  await assert.rejects(action, (error: Error & { reason?: string }) => {
    const shown = `Permissions Violation for Publish to "${subject}"`;
    assert.ok(
      error.message.toLowerCase().includes(shown.toLowerCase()),
      `expected "${shown}" in: ${error.message}`,
    );
    if (error.reason !== undefined) assert.equal(error.reason, "permission-denied");
    return true;
  });
  assert.deepEqual(await stored(), before, "the admin sees nothing written");
}

async function collect(stream: ReadableStream<PersistedEvent>, count?: number) {
  const events: PersistedEvent[] = [];
  for await (const event of stream) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

/** Subscribing to `subject` is refused by the server: the subscription ends with the error. */
async function assertSubscribeDenied(nc: NatsConnection, subject: string): Promise<void> {
  const closed = await nc.subscribe(subject).closed;
  assert.ok(closed instanceof Error, `the subscription to "${subject}" was refused`);
  assert.match(closed.message, /permissions violation for subscription to/i);
  assert.ok(closed.message.includes(`"${subject}"`), closed.message);
}

const deposit = (amount: number) => encoder.encode(JSON.stringify({ type: "deposited", amount }));

test("writer: persists and reads its type's events and keeps its snapshots", async () => {
  const nc = await connectAs("writer");
  const log = new NatsEventLog(nc);
  const snapshots = new NatsSnapshotStore(nc);
  assert.equal(await log.persist("account", "w1", null, [deposit(5), deposit(7)]), 2);
  const byId = await collect(await log.eventsById("account", "w1", 1));
  assert.deepEqual(byId.map((e) => e.seqNo), [1, 2]);
  const byType = await collect(await log.eventsByType("account", 0));
  assert.ok(byType.some((e) => e.id === "w1"));
  // An entity recovers from its events, persists, and saves a snapshot after each event.
  const ref = await spawn(account, "w1", {
    eventLog: log,
    snapshotStore: snapshots,
    binarize,
    snapshotAfter: 1,
  });
  const balance = await ref.handleCommand({
    handleCommand: () =>
      emitAndReply({ type: "deposited", amount: 3 } as AccountEvent, (b: number) => b),
  });
  assert.deepEqual(balance, { ok: true, value: 15 });
  await ref.stop();
  const saved = await snapshots.load("account", "w1");
  assert.deepEqual(saved && [saved.seqNo, new TextDecoder().decode(saved.bytes)], [3, "15"]);
  await snapshots.delete("account", "w1");
  assert.equal(await snapshots.load("account", "w1"), null);
});

test("writer: cannot write another type, delete or purge the stream", async () => {
  const nc = await connectAs("writer");
  const log = new NatsEventLog(nc);
  const js = await jetstream(nc).jetstreamManager(false);
  await assertDenied(() => log.persist("other", "x", null, [deposit(1)]), "eventsourced.other.x");
  await assertDenied(() => js.streams.delete("eventsourced"), "$JS.API.STREAM.DELETE.eventsourced");
  await assertDenied(() => js.streams.purge("eventsourced"), "$JS.API.STREAM.PURGE.eventsourced");
  await assertDenied(
    () => new NatsSnapshotStore(nc).save("other", "x", 1, encoder.encode("1")),
    "$JS.API.DIRECT.GET.KV_eventsourced-snapshots.$KV.eventsourced-snapshots.other.x",
  );
});

test("reader: reads by id, by type and live", async () => {
  const writer = new NatsEventLog(await connectAs("writer"));
  await writer.persist("account", "r1", null, [deposit(1)]);
  const log = new NatsEventLog(await connectAs("reader"));
  assert.equal(await log.lastSeqNo("account", "r1"), 1);
  assert.deepEqual((await collect(log.eventsById("account", "r1", 1))).map((e) => e.seqNo), [1]);
  const byType = await collect(log.eventsByType("account", 0));
  assert.ok(byType.some((e) => e.id === "r1"));
  const last = byType.at(-1)!.position;
  const live = collect(log.eventsByType("account", last + 1, { live: true }), 1);
  await writer.persist("account", "r2", null, [deposit(2)]);
  assert.deepEqual((await live).map((e) => e.id), ["r2"]);
});

test("reader: cannot persist or save a snapshot", async () => {
  const nc = await connectAs("reader");
  await assertDenied(
    () => new NatsEventLog(nc).persist("account", "r3", null, [deposit(1)]),
    "eventsourced.account.r3",
  );
  await assertDenied(
    () => new NatsSnapshotStore(nc).save("account", "r1", 1, encoder.encode("1")),
    "$JS.API.STREAM.INFO.KV_eventsourced-snapshots",
  );
});

test("projection: runs with its offsets in the offset bucket, and cannot touch another's", async () => {
  const writer = new NatsEventLog(await connectAs("writer"));
  await writer.persist("account", "p1", null, [deposit(4), deposit(6)]);
  const nc = await connectAs("projection");
  const offsetStore = new NatsOffsetStore(nc);
  const balances = new Map<string, number>();
  const projection = new Projection("balances", {
    typeName: account,
    eventLog: new NatsEventLog(nc),
    binarize,
    offsetStore,
    handleEvent: ({ id, event }) => {
      balances.set(id, (balances.get(id) ?? 0) + (event as { amount: number }).amount);
    },
  });
  await projection.run();
  try {
    await projection.whenCaughtUp();
  } finally {
    await projection.stop();
  }
  assert.equal(balances.get("p1"), 10);
  const offsets = await new NatsOffsetStore(admin).load("balances");
  assert.ok(offsets > 0, "the admin sees the projection's offset");

  await assertDenied(
    () => offsetStore.load("other"),
    "$JS.API.DIRECT.GET.KV_eventsourced_projection_offsets.$KV.eventsourced_projection_offsets.other",
  );
  await assertDenied(
    () => offsetStore.acquire("other"),
    "$JS.API.DIRECT.GET.KV_eventsourced_projection_offsets.$KV.eventsourced_projection_offsets.other",
  );
  await assertDenied(
    () => nc.request("$KV.eventsourced_projection_offsets.other", encoder.encode("1")),
    "$KV.eventsourced_projection_offsets.other",
  );
  await assertDenied(
    () => new NatsEventLog(nc).persist("account", "p2", null, [deposit(1)]),
    "eventsourced.account.p2",
  );
});

test("cluster: a host serves the client's commands; the client cannot write events or call JetStream", async () => {
  const hostNc = await connectAs("host");
  const hostErrors: unknown[] = [];
  const host = await EntityHost.start(hostNc, {
    cluster: CLUSTER,
    hostId: "h1",
    onError: (error) => hostErrors.push(error),
    entities: [
      hostedEntity(accountCommands, {
        eventLog: new NatsEventLog(hostNc),
        snapshotStore: new NatsSnapshotStore(hostNc),
        snapshotAfter: 1,
        binarize,
      }),
    ],
  });
  try {
    const nc = await connectAs("client");
    const client = new EntityClient(nc, {
      cluster: CLUSTER,
      entities: { account: accountCommands },
    });
    assert.deepEqual(await client.send("account", "c1", "deposit", { amount: 9 }), {
      ok: true,
      value: 9,
    });
    const events = await collect(new NatsEventLog(admin).eventsById("account", "c1", 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1]);
    assert.equal((await new NatsSnapshotStore(admin).load("account", "c1"))?.seqNo, 1);
    assert.deepEqual((await client.hosts()).map((h) => h.hostId), ["h1"]);
    // The host may write its own presence only.
    await assertDenied(
      () => hostNc.request(`$KV.es-cluster-${CLUSTER}-leases.host.h2`, encoder.encode("{}")),
      `$KV.es-cluster-${CLUSTER}-leases.host.h2`,
    );
    const leases = await new Kvm(admin).open(`es-cluster-${CLUSTER}-leases`);
    assert.equal(await leases.get("host.h2"), null, "the admin sees no presence of h2");

    await assertDenied(
      () => nc.request("eventsourced.account.c1", deposit(1)),
      "eventsourced.account.c1",
    );
    const js = await jetstream(nc).jetstreamManager(false);
    await assertDenied(() => js.streams.purge("eventsourced"), "$JS.API.STREAM.PURGE.eventsourced");
    await assertDenied(
      () => js.streams.delete("eventsourced"),
      "$JS.API.STREAM.DELETE.eventsourced",
    );
    await assertDenied(
      () => new NatsEventLog(nc).persist("account", "c1", 1, [deposit(1)]),
      "$JS.API.STREAM.INFO.eventsourced",
    );
  } finally {
    await host.stop();
  }
  assert.deepEqual(hostErrors, [], "the host met no permissions violation");
});

test("custom names: a writer of the stream shop with its own inbox prefix", async () => {
  const nc = await connectAs("shop", "_INBOX_shop");
  const log = new NatsEventLog(nc, { stream: "shop", subjectPrefix: "shop.events" });
  const snapshots = new NatsSnapshotStore(nc, { bucket: "shop-snapshots" });
  assert.equal(await log.persist("cart", "c.1", null, [deposit(1)]), 1);
  assert.deepEqual((await collect(log.eventsByType("cart", 0))).map((e) => e.id), ["c.1"]);
  await snapshots.save("cart", "c.1", 1, encoder.encode("1"));
  assert.equal((await snapshots.load("cart", "c.1"))?.seqNo, 1);
  await assertDenied(
    () => new NatsEventLog(nc).persist("cart", "c2", null, [deposit(1)]),
    "$JS.API.STREAM.INFO.eventsourced",
  );
  await assertDenied(() => nc.request("eventsourced.cart.c2", deposit(1)), "eventsourced.cart.c2");
  await assertSubscribeDenied(nc, "_INBOX.>");
});

test("connect(): a reader with its own inbox prefix reads over WebSocket; without it, it is refused", async () => {
  const persisted = await new NatsEventLog(admin).persist("note", "n1", null, [deposit(3)]);
  assert.equal(persisted, 1);
  const options = { servers: server.wsUrl, user: "ownInbox", pass: "ownInbox-secret" };
  const log = await NatsEventLog.connect({ ...options, inboxPrefix: "_INBOX_own" });
  try {
    assert.deepEqual((await collect(log.eventsById("note", "n1", 1))).map((e) => e.seqNo), [1]);
  } finally {
    await log.close();
  }
  // With the default prefix its replies would come on _INBOX.>, which it may not subscribe to.
  const stray = await NatsEventLog.connect(options);
  try {
    await assert.rejects(
      () => collect(stray.eventsById("note", "n1", 1)),
      /permission/i,
    );
  } finally {
    await stray.close();
  }
  await assert.rejects(
    () => NatsEventLog.connect({ ...options, inboxPrefix: "_INBOX.>" }),
    /inboxPrefix "_INBOX\.>": expected a subject without wildcards/,
  );
});

test("no role can listen to event subjects, snapshots or another user's own inbox prefix over core NATS", async () => {
  for (const user of ["writer", "reader", "projection", "host", "client"]) {
    const nc = await connectAs(user);
    await assertSubscribeDenied(nc, "eventsourced.>");
    await assertSubscribeDenied(nc, "_INBOX_shop.>");
    await assertSubscribeDenied(nc, "$KV.eventsourced-snapshots.>");
    await assertSubscribeDenied(nc, "$KV.eventsourced_projection_offsets.>");
    await assertSubscribeDenied(nc, `$KV.es-cluster-${CLUSTER}-leases.>`);
  }
});

test("natsPermissions: scoped to the names given, refuses bad input naming it", () => {
  const host = natsPermissions("cluster-host", { cluster: "c1", types: ["order"] });
  assert.equal(host.allow_responses, true);
  assert.ok(host.subscribe.allow.includes("es.cluster.c1.cmd.order.*"));
  assert.ok(host.publish.allow.includes("eventsourced.order.*"));
  assert.ok(host.publish.allow.includes("$KV.es-cluster-c1-leases.shard.order.*"));
  const client = natsPermissions("cluster-client", { cluster: "c1" });
  assert.deepEqual(client.publish.allow, [
    "es.cluster.c1.cmd.*.*",
    "es.cluster.c1.config",
    "$SRV.STATS.eventsourced-c1",
  ]);
  assert.deepEqual(client.subscribe.allow, ["_INBOX.>"]);
  assert.equal(client.allow_responses, undefined);
  const projection = natsPermissions("projection", {
    offsetBucket: "offs",
    projections: ["a"],
    apiPrefix: "$JS.hub.API",
  });
  assert.ok(projection.publish.allow.includes("$KV.offs.types.a"));
  assert.ok(projection.publish.allow.includes("$JS.hub.API.DIRECT.GET.KV_offs.$KV.offs.a"));
  const noSnapshots = natsPermissions("writer", { snapshotBucket: null });
  assert.ok(!noSnapshots.publish.allow.some((subject) => subject.includes("KV")));
  for (const role of ["writer", "reader", "projection"] as const) {
    const allowed = natsPermissions(role).publish.allow;
    assert.ok(
      !allowed.some((s) => /STREAM\.(CREATE|UPDATE|DELETE|PURGE)|^>$|\$JS\.API\.>/.test(s)),
    );
  }

  assert.throws(() => natsPermissions("owner" as "writer"), /Invalid NATS role "owner"/);
  assert.throws(() => natsPermissions("cluster-client"), /needs the option cluster/);
  assert.throws(() => natsPermissions("writer", { stream: "a.b" }), /stream/);
  assert.throws(() => natsPermissions("writer", { types: ["a.b"] }), /types/);
  assert.throws(() => natsPermissions("writer", { types: [] }), /types/);
  assert.throws(() => natsPermissions("projection", { projections: ["x", "x"] }), /projections/);
  assert.throws(() => natsPermissions("writer", { inboxPrefix: "_INBOX.>" }), /inboxPrefix/);
  assert.throws(() => natsPermissions("cluster-host", { cluster: "c", hostId: "a.b" }), /hostId/);
  assert.throws(
    () => natsPermissions("writer", { bucket: "b" } as never),
    /Unknown natsPermissions option "bucket"|bucket/,
  );
});

test("README: the authorization block for the default names is natsPermissions' and works as pasted", async () => {
  // Tests run from the repository root on every runtime.
  const readme = readFileSync(join(process.cwd(), "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n### Least privilege on NATS\n"));
  const start = section.indexOf("```conf\n") + "```conf\n".length;
  const block = section.slice(start, section.indexOf("```\n", start));
  assert.equal(
    block,
    authorizationBlock({
      owner: undefined,
      writer: natsPermissions("writer"),
      reader: natsPermissions("reader"),
      projection: natsPermissions("projection"),
      host: natsPermissions("cluster-host", { cluster: "counters" }),
      client: natsPermissions("cluster-client", { cluster: "counters" }),
    }),
  );
  const pasted = await startNatsServer({ extraConfig: block });
  const opened: NatsConnection[] = [];
  const as = async (user: string) => {
    const nc = await connect({ servers: pasted.tcpUrl!, user, pass: `${user}-secret` });
    opened.push(nc);
    return nc;
  };
  try {
    await new NatsEventLog(await as("owner")).setup({ storage: "memory" });
    await new NatsEventLog(await as("writer")).persist("counter", "a", null, [deposit(1)]);
    assert.equal(await new NatsEventLog(await as("reader")).lastSeqNo("counter", "a"), 1);
    const client = await jetstream(await as("client")).jetstreamManager(false);
    await assert.rejects(
      client.streams.purge("eventsourced"),
      /Permissions Violation for Publish to "\$JS\.API\.STREAM\.PURGE\.eventsourced"/,
    );
  } finally {
    await Promise.all(opened.map((nc) => nc.close()));
    await pasted.dispose();
  }
});
