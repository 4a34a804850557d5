// The NATS store admin against a real nats-server over WebSocket: the conformance suite, plus
// what is particular to NATS (connect(), kept writtenAt over every read path, runs of events
// as messages, positions assigned by the stream).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  NatsEventLog,
  NatsOffsetStore,
  NatsStoreAdmin,
  type NatsStoreAdminOptions,
} from "../adapters/nats/mod.ts";
import { isConcurrencyError, type PersistedEvent } from "../mod.ts";
import { collect, take, testStoreAdmin, uniqueTypeName } from "../testing/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let fresh = 0;

before(async () => {
  server = await startNatsServer();
  nc = await wsconnect({ servers: server.wsUrl });
  await new NatsStoreAdmin(nc).setup();
}, { timeout: 60_000 });

after(async () => {
  await nc?.close();
  await server?.dispose();
}, { timeout: 60_000 });

testStoreAdmin("NatsStoreAdmin", () => new NatsStoreAdmin(nc), {
  fresh: () => {
    const name = `fresh${++fresh}`;
    return new NatsStoreAdmin(nc, {
      stream: name,
      subjectPrefix: name,
      snapshotBucket: `${name}-snapshots`,
      offsetBucket: `${name}_offsets`,
    });
  },
  offsetStore: () => new NatsOffsetStore(nc),
  dispose: (admin) => admin.close(),
  pagingIds: 1_500,
});

let position = 0;
const event = (
  typeName: string,
  id: string,
  seqNo: number,
  extra: Partial<PersistedEvent> = {},
) => ({
  typeName,
  id,
  seqNo,
  position: ++position,
  bytes: new Uint8Array([seqNo]),
  version: 1,
  writtenAt: 1_500_000_000_000 + seqNo,
  metadata: {},
  ...extra,
});

test("NatsStoreAdmin refuses a bad connection and bad options before any I/O", async () => {
  assert.throws(
    () => new NatsStoreAdmin({} as NatsConnection),
    /Invalid nc: expected a NATS connection/,
  );
  assert.throws(
    () => new NatsStoreAdmin(nc, { stream: "a.b" }),
    /Invalid NatsStoreAdmin option stream "a.b"/,
  );
  assert.throws(
    () => new NatsStoreAdmin(nc, { snapshotBucket: "a b" }),
    /Invalid NatsStoreAdmin option snapshotBucket "a b"/,
  );
  assert.throws(
    () => new NatsStoreAdmin(nc, { bucket: "x" } as NatsStoreAdminOptions),
    /Unknown NatsStoreAdmin option "bucket"/,
  );
  await assert.rejects(
    NatsStoreAdmin.connect({ servers: server.wsUrl, timeout: 0 }),
    /Invalid NatsStoreAdmin.connect option timeout 0/,
  );
});

test("NatsStoreAdmin.connect opens a connection that close() closes", async () => {
  const admin = await NatsStoreAdmin.connect({ servers: server.wsUrl });
  assert.deepEqual(await admin.schema(), { installed: 1, latest: 1 });
  await admin.close();
  await assert.rejects(admin.entityTypes(), /closed/i);
});

test("imported writtenAt is read back by every read path, and a later persist gets the server's time", async () => {
  const admin = new NatsStoreAdmin(nc);
  const typeName = uniqueTypeName();
  const imported = [event(typeName, "a", 1), event(typeName, "a", 2), event(typeName, "a", 3)];
  const live = take(admin.eventLog.eventsByType(typeName, 0, { live: true }), 4, 20_000);
  live.catch(() => {}); // awaited below; a failed assertion before must not leave it unhandled
  await admin.importEvents(imported);
  const expected = imported.map((e) => e.writtenAt);
  // A second log on another connection reads through its own consumers and gets.
  const other = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    for (const log of [admin.eventLog, other]) {
      assert.deepEqual(
        (await collect(log.eventsById(typeName, "a", 1))).map((e) => e.writtenAt),
        expected,
      );
      assert.deepEqual((await collect(log.eventsById(typeName, "a", 3))).map((e) => e.writtenAt), [
        expected[2],
      ]);
      assert.deepEqual(
        (await collect(log.eventsByType(typeName, 0))).map((e) => e.writtenAt),
        expected,
      );
    }
    const before = Date.now() - 60_000;
    assert.equal(await other.persist(typeName, "a", 3, [new Uint8Array([4])]), 4);
    const events = await live;
    assert.deepEqual(events.slice(0, 3).map((e) => e.writtenAt), expected);
    assert.ok(events[3]!.writtenAt > before, "a persisted event has the server's time");
  } finally {
    await other.close();
    await admin.close();
  }
});

test("an entity's consecutive events with the same version, metadata and time are one message", async () => {
  const admin = new NatsStoreAdmin(nc);
  const typeName = uniqueTypeName();
  const same = { writtenAt: 1_600_000_000_000 };
  await admin.importEvents([
    event(typeName, "a", 1, same),
    event(typeName, "a", 2, same),
    event(typeName, "b", 1, same),
    event(typeName, "a", 3, same),
    event(typeName, "a", 4, { ...same, version: 2 }),
    event(typeName, "a", 5, { ...same, version: 2, metadata: { commandId: "c" } }),
  ]);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info("eventsourced", {
    subjects_filter: `eventsourced.${typeName}.>`,
  });
  const messages = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  assert.equal(messages, 5, "a1-2 | b1 | a3 | a4 | a5");
  const read = await collect(admin.eventLog.eventsByType(typeName, 0));
  assert.deepEqual(read.map((e) => [e.id, e.seqNo, e.version]), [
    ["a", 1, 1],
    ["a", 2, 1],
    ["b", 1, 1],
    ["a", 3, 1],
    ["a", 4, 2],
    ["a", 5, 2],
  ]);
  assert.deepEqual(read[5]!.metadata, { commandId: "c" });
  assert.deepEqual(
    await admin.entityTypes().then((types) => types.find((t) => t.typeName === typeName)),
    {
      typeName,
      entities: 2,
      events: 6,
      headPosition: read.at(-1)!.position,
    },
  );
  await admin.close();
});

test("an import keeps the entities before one the stream refuses, and sends nothing after it", async () => {
  const admin = new NatsStoreAdmin(nc);
  const typeName = uniqueTypeName();
  try {
    const log = admin.eventLog;
    await log.persist(typeName, "b", null, [new Uint8Array([9])]);
    const error = await admin.importEvents([
      event(typeName, "a", 1),
      event(typeName, "b", 1),
      event(typeName, "c", 1),
    ]).catch((e) => e);
    assert.ok(isConcurrencyError(error), `expected a ConcurrencyError, got ${error}`);
    assert.equal(error.id, "b");
    assert.equal(error.actual, 1);
    assert.deepEqual((await collect(log.eventsByType(typeName, 0))).map((e) => [e.id, e.seqNo]), [
      ["b", 1],
      ["a", 1],
    ]);
    assert.equal(await log.lastSeqNo(typeName, "c"), null);
  } finally {
    await admin.close();
  }
});

test("an import whose entity does not continue its head is refused before anything is sent", async () => {
  const admin = new NatsStoreAdmin(nc);
  const typeName = uniqueTypeName();
  try {
    const log = admin.eventLog;
    await log.persist(typeName, "b", null, [new Uint8Array([9])]);
    await assert.rejects(
      admin.importEvents([event(typeName, "a", 1), event(typeName, "b", 3)]),
      (e: Error) =>
        e instanceof RangeError && /seqNo 3 does not continue the entity/.test(e.message),
    );
    assert.equal(await log.lastSeqNo(typeName, "a"), null);
    assert.equal(await log.lastSeqNo(typeName, "b"), 1);
  } finally {
    await admin.close();
  }
});
