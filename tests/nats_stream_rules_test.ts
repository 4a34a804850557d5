// What the NATS adapter refuses and how it fails, on a real nats-server: retention settings that
// would lose events, events and snapshots too large for the server, unknown option keys, and
// failures of the server as StorageErrors with a reason. Also: a read stream holds no consumer
// on the server until it is read.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { wsconnect } from "@nats-io/nats-core";
import { DiscardPolicy, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { isStorageError } from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { NatsEventLog, NatsOffsetStore, NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;

before(async () => {
  server = await startNatsServer();
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    await log.setup();
  } finally {
    await log.close();
  }
});

after(async () => {
  await server?.dispose();
});

const bytes = (...values: number[]) => new Uint8Array(values);
const reasonOf = (error: unknown) => (isStorageError(error) ? error.reason : `${error}`);

test("NatsEventLog.setup refuses retention settings that would expire or drop events", async () => {
  const log = await NatsEventLog.connect({
    servers: server.wsUrl,
    stream: "retention-refused",
    subjectPrefix: "retentionrefused",
  });
  try {
    const DAY = 24 * 60 * 60 * 1000;
    for (const options of [{ maxAge: DAY }, { maxBytes: 1_000_000 }]) {
      await assert.rejects(
        log.setup(options as never),
        (error: Error) => error instanceof TypeError && /keeps every event/.test(error.message),
      );
    }
    const jsm = await jetstreamManager(log.connection);
    await assert.rejects(jsm.streams.info("retention-refused"), /stream not found/);
  } finally {
    await log.close();
  }
});

test("NatsEventLog refuses an existing stream that expires, caps or trims messages", async () => {
  const nc = await wsconnect({ servers: server.wsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const limits = [
      ["max_age", { max_age: 3_600_000_000_000 }],
      ["max_bytes", { max_bytes: 1_000_000 }],
      ["max_msgs", { max_msgs: 1_000 }],
      ["max_msgs_per_subject", { max_msgs_per_subject: 10 }],
      ['discard policy "old"', { discard: DiscardPolicy.Old }],
      ['retention "workqueue"', { retention: RetentionPolicy.Workqueue }],
    ] as const;
    for (const [index, [named, limit]] of limits.entries()) {
      const stream = `limited-${index}`;
      const prefix = `limited${index}`;
      await jsm.streams.add({
        name: stream,
        subjects: [`${prefix}.>`],
        discard: DiscardPolicy.New,
        ...limit,
      });
      const log = new NatsEventLog(nc, { stream, subjectPrefix: prefix });
      const setup = await log.setup().catch((e) => e);
      assert.equal(reasonOf(setup), "invalid-configuration", `${named}: ${setup}`);
      assert.ok(setup.message.includes(named), `${named}: ${setup.message}`);
      // A log that never ran setup() refuses the stream at its first call as well.
      const persist = await log.persist("counter", "a", null, [bytes(1)]).catch((e) => e);
      assert.equal(reasonOf(persist), "invalid-configuration", `${named}: ${persist}`);
      assert.equal((await jsm.streams.info(stream)).state.messages, 0);
    }
  } finally {
    await nc.close();
  }
});

test("NatsEventLog: finite read streams that are never read hold no consumer; read and cancel releases it", async () => {
  const nc = await wsconnect({ servers: server.wsUrl });
  try {
    const log = new NatsEventLog(nc);
    const jsm = await jetstreamManager(nc);
    const count = async () => (await jsm.streams.info("eventsourced")).state.consumer_count;
    const typeName = uniqueTypeName();
    for (let i = 0; i < 3; i++) await log.persist(typeName, `e${i}`, null, [bytes(i)]);
    const before = await count();
    const streams = Array.from({ length: 200 }, () => log.eventsByType(typeName, 0));
    // Give the streams time to act on their own (they must not).
    await log.lastSeqNo(typeName, "e0");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await count(), before);
    const reader = streams[0]!.getReader();
    assert.equal((await reader.read()).value?.id, "e0");
    assert.equal(await count(), before + 1);
    await reader.cancel();
    assert.equal(await count(), before);
    for (const stream of streams.slice(1)) await stream.cancel();
    assert.equal(await count(), before);
    assert.equal((await collect(log.eventsByType(typeName, 0))).length, 3);
    assert.equal(await count(), before);
  } finally {
    await nc.close();
  }
});

test("NatsEventLog: maxEventBytes defaults to what the server's max_payload leaves for one event and refuses larger ones before writing", async () => {
  const small = await startNatsServer({ maxPayload: 64 * 1024 });
  try {
    const log = await NatsEventLog.connect({ servers: small.wsUrl });
    try {
      await log.setup();
      assert.ok(
        log.maxEventBytes < 64 * 1024 && log.maxEventBytes > 63 * 1024,
        `${log.maxEventBytes}`,
      );
      const typeName = uniqueTypeName();
      // The largest event the default allows fits one message with its headers.
      assert.equal(
        await log.persist(typeName, "a", null, [new Uint8Array(log.maxEventBytes)]),
        1,
      );
      const tooLarge = await log.persist(typeName, "a", 1, [new Uint8Array(log.maxEventBytes + 1)])
        .catch((e) => e);
      assert.equal(reasonOf(tooLarge), "too-large", `${tooLarge}`);
      assert.match(tooLarge.message, /more than maxEventBytes/);
      // A batch of events that each fit but not together: refused before sending.
      const half = new Uint8Array(40 * 1024);
      const batch = await log.persist(typeName, "a", 1, [half, half]).catch((e) => e);
      assert.equal(reasonOf(batch), "too-large", `${batch}`);
      assert.equal(await log.lastSeqNo(typeName, "a"), 1);
      // An explicit, lower maxEventBytes is honoured.
      const strict = new NatsEventLog(log.connection, { maxEventBytes: 10 });
      const refused = await strict.persist(typeName, "a", 1, [new Uint8Array(11)]).catch((e) => e);
      assert.equal(reasonOf(refused), "too-large");
      assert.equal(await strict.persist(typeName, "a", 1, [new Uint8Array(10)]), 2);

      const snapshots = new NatsSnapshotStore(log.connection);
      await snapshots.setup();
      const big = await snapshots.save(typeName, "a", 2, new Uint8Array(64 * 1024)).catch((e) => e);
      assert.equal(reasonOf(big), "too-large", `${big}`);
      assert.equal(await snapshots.load(typeName, "a"), null);
    } finally {
      await log.close();
    }
  } finally {
    await small.dispose();
  }
});

test("NATS adapter: unknown option keys are refused, naming the known ones", async () => {
  const nc = await wsconnect({ servers: server.wsUrl });
  try {
    const unknown = /Unknown .* option "(\w+)": known options are/;
    assert.throws(() => new NatsEventLog(nc, { subjectprefix: "x" } as never), unknown);
    await assert.rejects(
      NatsEventLog.connect({ servers: server.wsUrl, serverz: "x" } as never),
      unknown,
    );
    await assert.rejects(new NatsEventLog(nc).setup({ replica: 3 } as never), unknown);
    assert.throws(() => new NatsEventLog(nc).eventsByType("t", 0, { lve: true } as never), unknown);
    await assert.rejects(
      new NatsEventLog(nc).persist("t", "a", null, [bytes(1)], { signl: 1 } as never),
      unknown,
    );
    assert.throws(() => new NatsSnapshotStore(nc, { buckt: "x" } as never), unknown);
    await assert.rejects(
      NatsSnapshotStore.connect({ servers: server.wsUrl, bucket: "x", timeot: 1 } as never),
      unknown,
    );
    await assert.rejects(new NatsSnapshotStore(nc).setup({ history: 5 } as never), unknown);
    assert.throws(() => new NatsOffsetStore(nc, { bukket: "x" } as never), unknown);
    await assert.rejects(new NatsOffsetStore(nc).setup({ ttl: 1 } as never), unknown);
    assert.throws(
      () => new NatsEventLog(nc, { timeout: 0 }),
      /Invalid NatsEventLog option timeout 0/,
    );
  } finally {
    await nc.close();
  }
});

test("NATS adapter: server failures are StorageErrors with a reason", async () => {
  // Nothing listens on port 1: the server is unavailable.
  const refused = await NatsEventLog.connect({ servers: "ws://127.0.0.1:1" }).catch((e) => e);
  assert.equal(reasonOf(refused), "unavailable", `${refused}`);

  const nc = await wsconnect({ servers: server.wsUrl });
  try {
    // A missing stream or bucket: run setup() first.
    const missing = new NatsEventLog(nc, { stream: "nowhere", subjectPrefix: "nowhere" });
    assert.equal(reasonOf(await missing.lastSeqNo("t", "a").catch((e) => e)), "schema-missing");
    assert.equal(
      reasonOf(await missing.persist("t", "a", null, [bytes(1)]).catch((e) => e)),
      "schema-missing",
    );
    const reading = await collect(missing.eventsByType("t", 0)).catch((e) => e);
    assert.equal(reasonOf(reading), "schema-missing", `${reading}`);
    const noBucket = new NatsSnapshotStore(nc, { bucket: "no-such-bucket" });
    assert.equal(reasonOf(await noBucket.load("t", "a").catch((e) => e)), "schema-missing");
    const noOffsets = new NatsOffsetStore(nc, { bucket: "no_such_offsets" });
    assert.equal(reasonOf(await noOffsets.load("p").catch((e) => e)), "schema-missing");
  } finally {
    await nc.close();
  }

  // A closed log and a closed connection: closed, nothing written.
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  await log.close();
  const closed = await log.persist("t", "a", null, [bytes(1)]).catch((e) => e);
  assert.equal(reasonOf(closed), "closed", `${closed}`);
  assert.equal(reasonOf(await log.lastSeqNo("t", "a").catch((e) => e)), "closed");
  const read = await collect(log.eventsByType("t", 0)).catch((e) => e);
  assert.equal(reasonOf(read), "closed", `${read}`);
  const store = new NatsSnapshotStore(log.connection);
  assert.equal(reasonOf(await store.load("t", "a").catch((e) => e)), "closed");
});

test("NATS adapter: a server without JetStream is schema-missing", async () => {
  const own = await startNatsServer({ own: true });
  try {
    await own.stop();
    await own.start({ jetStream: false });
    const log = await NatsEventLog.connect({ servers: own.wsUrl, timeout: 2_000 });
    try {
      const setup = await log.setup().catch((e) => e);
      assert.equal(reasonOf(setup), "schema-missing", `${setup}`);
      const read = await log.lastSeqNo("t", "a").catch((e) => e);
      assert.equal(reasonOf(read), "schema-missing", `${read}`);
      const write = await log.persist("t", "a", null, [bytes(1)]).catch((e) => e);
      assert.equal(reasonOf(write), "schema-missing", `${write}`);
      const snapshots = new NatsSnapshotStore(log.connection, { timeout: 2_000 });
      const load = await snapshots.load("t", "a").catch((e) => e);
      assert.equal(reasonOf(load), "schema-missing", `${load}`);
    } finally {
      await log.close();
    }
  } finally {
    await own.dispose();
  }
});

test("NATS adapter: a user without permission for the stream gets permission-denied", async () => {
  const own = await startNatsServer({
    extraConfig: [
      `authorization {`,
      `  users = [`,
      `    { user: admin, password: admin }`,
      `    { user: reader, password: reader, permissions: { publish: { deny: ["eventsourced.>"] } } }`,
      `  ]`,
      `}`,
    ].join("\n"),
  });
  try {
    const admin = await NatsEventLog.connect({ servers: own.wsUrl, user: "admin", pass: "admin" });
    await admin.setup();
    await admin.close();
    const denied = await NatsEventLog.connect({
      servers: own.wsUrl,
      user: "reader",
      pass: "reader",
    });
    try {
      const error = await denied.persist("t", "a", null, [bytes(1)]).catch((e) => e);
      assert.equal(reasonOf(error), "permission-denied", `${error}`);
    } finally {
      await denied.close();
    }
    const wrong = await NatsEventLog.connect({ servers: own.wsUrl, user: "admin", pass: "nope" })
      .catch((e) => e);
    assert.equal(reasonOf(wrong), "permission-denied", `${wrong}`);
  } finally {
    await own.dispose();
  }
});
