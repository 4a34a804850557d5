// Deleting events on NATS JetStream against a real nats-server: the deletion suite, plus what is
// particular to NATS (a persist of several events is one message and is purged whole; the store
// admin no longer lists a deleted entity or its snapshot).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { NatsEventLog, NatsSnapshotStore, NatsStoreAdmin } from "../adapters/nats/mod.ts";
import type { EventLog } from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { testDeletion } from "./_delete_suite.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let log: NatsEventLog;
let snapshots: NatsSnapshotStore;

before(async () => {
  server = await startNatsServer();
  nc = await wsconnect({ servers: server.wsUrl });
  await new NatsStoreAdmin(nc).setup();
  log = new NatsEventLog(nc);
  snapshots = new NatsSnapshotStore(nc);
}, { timeout: 60_000 });

after(async () => {
  await nc?.close();
  await server?.dispose();
}, { timeout: 60_000 });

testDeletion("NatsEventLog", () => ({
  log,
  snapshots,
  // A connection of its own: the second log's remembered heads are apart from the first's.
  other: () => NatsEventLog.connect({ servers: server.wsUrl }),
  dispose: (other: EventLog) => (other as NatsEventLog).close(),
}));

const bytes = (...values: number[]) => new Uint8Array(values);

test("NatsEventLog: the events of one persist are purged together", async () => {
  const typeName = uniqueTypeName();
  await log.persist(typeName, "a", null, [bytes(1), bytes(2)]);
  await log.persist(typeName, "a", 2, [bytes(3), bytes(4), bytes(5)]);
  await log.persist(typeName, "a", 5, [bytes(6)]);
  // seqNo 4 is in the message of 3..5, which stays: only the message of 1..2 goes.
  assert.equal(await log.deleteEvents(typeName, "a", 3), 2);
  const seqNos = async () =>
    (await collect(log.eventsById(typeName, "a", 1))).map((event) => event.seqNo);
  assert.deepEqual(await seqNos(), [3, 4, 5, 6]);
  assert.equal(await log.deleteEvents(typeName, "a", 5), 3);
  assert.deepEqual(await seqNos(), [6]);
  // The last message is kept even when it holds several events up to toSeqNo.
  await log.persist(typeName, "b", null, [bytes(1), bytes(2)]);
  assert.equal(await log.deleteEvents(typeName, "b", 9), 0);
  assert.equal(await log.lastSeqNo(typeName, "b"), 2);
  assert.equal(await log.deleteEntity(typeName, "b"), 2);
  assert.equal(await log.lastSeqNo(typeName, "b"), null);
});

test("NatsEventLog: a read from a snapshot after a deletion finds the message by binary search", async () => {
  const typeName = uniqueTypeName();
  let last: number | null = null;
  // Enough events that a read from late seqNos searches instead of scanning from the start.
  for (let i = 0; i < 40; i++) {
    last = await log.persist(typeName, "a", last, Array.from({ length: 20 }, () => bytes(i)));
  }
  assert.equal(await log.deleteEvents(typeName, "a", 600), 600);
  const events = await collect(log.eventsById(typeName, "a", 700));
  assert.deepEqual([events[0]!.seqNo, events.at(-1)!.seqNo, events.length], [700, 800, 101]);
  const all = await collect(log.eventsById(typeName, "a", 1));
  assert.deepEqual([all[0]!.seqNo, all.length], [601, 200]);
});

test("NatsStoreAdmin: a deleted entity and its snapshot are no longer listed", async () => {
  const admin = new NatsStoreAdmin(nc);
  const typeName = uniqueTypeName();
  await log.persist(typeName, "a", null, [bytes(1)]);
  await log.persist(typeName, "b", null, [bytes(2)]);
  await snapshots.save(typeName, "b", 1, bytes(3));
  assert.deepEqual(await collect(admin.entityIds(typeName)), ["a", "b"]);
  assert.deepEqual((await collect(admin.snapshots(typeName))).map((s) => s.id), ["b"]);
  assert.equal(await log.deleteEntity(typeName, "b"), 1);
  await snapshots.delete(typeName, "b");
  assert.deepEqual(await collect(admin.entityIds(typeName)), ["a"]);
  assert.deepEqual(await collect(admin.snapshots(typeName)), []);
  const summary = (await admin.entityTypes()).find((s) => s.typeName === typeName);
  assert.deepEqual([summary?.entities, summary?.events], [1, 1]);
});
