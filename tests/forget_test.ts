// Deleting events on the memory stores: deleteEventsUpTo and deleteEntity, what a re-spawned
// entity recovers, and what projections behind, ahead of and rebuilt over a deletion see.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  deleteEntity,
  deleteEventsUpTo,
  type EventLog,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { MemoryOffsetStore, Projection } from "../projection/mod.ts";
import { counter, get, increase } from "./_counter.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

function stores() {
  return { eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() };
}

function spawnCounter(given: ReturnType<typeof stores>, id: string) {
  return spawn(counter, id, {
    ...given,
    binarize: jsonBinarize(),
    snapshotAfter: 3,
    onError: (error) => assert.fail(error),
  });
}

async function seqNosOf(log: EventLog, typeName: string, id: string) {
  return (await collect(log.eventsById(typeName, id, 1))).map((e) => e.seqNo);
}

test("an entity deleted up to its snapshot spawns, replays to its state and goes on", async () => {
  const given = stores();
  const ref = await spawnCounter(given, "c1");
  for (let by = 1; by <= 7; by++) await ref.handleCommand(increase(by));
  await ref.stop();
  assert.equal((await given.snapshotStore.load("counter", "c1"))?.seqNo, 6);

  assert.deepEqual(await deleteEventsUpTo(given, "counter", "c1"), { deleted: 6, toSeqNo: 6 });
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "c1"), [7]);

  const again = await spawnCounter(given, "c1");
  assert.deepEqual(await again.handleCommand(get), { ok: true, value: 28 });
  assert.deepEqual(await again.handleCommand(increase(10)), { ok: true, value: 38 });
  await again.stop();
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "c1"), [7, 8]);
  const third = await spawnCounter(given, "c1");
  assert.deepEqual(await third.handleCommand(get), { ok: true, value: 38 });
  await third.stop();
});

test("a delete up to the snapshot while the entity runs leaves it working", async () => {
  const given = stores();
  const ref = await spawnCounter(given, "c1");
  for (let i = 0; i < 4; i++) await ref.handleCommand(increase(1));
  // The snapshot at seqNo 3 is saved in the background; wait until it is there.
  for (let i = 0; (await given.snapshotStore.load("counter", "c1")) === null; i++) {
    assert.ok(i < 1000, "the snapshot at seqNo 3 was never saved");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.deepEqual(await deleteEventsUpTo(given, "counter", "c1", { toSeqNo: 2 }), {
    deleted: 2,
    toSeqNo: 2,
  });
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 5 });
  await ref.stop();
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "c1"), [3, 4, 5]);
  const again = await spawnCounter(given, "c1");
  assert.deepEqual(await again.handleCommand(get), { ok: true, value: 5 });
  await again.stop();
});

test("deleteEventsUpTo refuses without a snapshot that covers toSeqNo, deleting nothing", async () => {
  const given = stores();
  await given.eventLog.persist("counter", "a", null, [bytes(1), bytes(2), bytes(3), bytes(4)]);
  await assert.rejects(
    deleteEventsUpTo(given, "counter", "a"),
    /Cannot delete the events of "counter\/a": it has no snapshot/,
  );
  await assert.rejects(
    deleteEventsUpTo(given, "counter", "a", { toSeqNo: 2 }),
    /"counter\/a" up to seqNo 2: it has no snapshot/,
  );
  await given.snapshotStore.save("counter", "a", 2, bytes(0));
  await assert.rejects(
    deleteEventsUpTo(given, "counter", "a", { toSeqNo: 3 }),
    /"counter\/a" up to seqNo 3: its snapshot is at seqNo 2, which does not cover them/,
  );
  await given.snapshotStore.save("counter", "b", 9, bytes(0));
  await given.eventLog.persist("counter", "b", null, [bytes(1)]);
  await assert.rejects(
    deleteEventsUpTo(given, "counter", "b"),
    /snapshot at seqNo 9 is newer than its last event, seqNo 1/,
  );
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "a"), [1, 2, 3, 4]);
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "b"), [1]);
  assert.deepEqual(await deleteEventsUpTo(given, "counter", "a", { toSeqNo: 1 }), {
    deleted: 1,
    toSeqNo: 1,
  });
  await given.snapshotStore.save("counter", "none", 1, bytes(0));
  assert.deepEqual(await deleteEventsUpTo(given, "counter", "none", { toSeqNo: 1 }), {
    deleted: 0,
    toSeqNo: 1,
  }, "an entity with a snapshot but no events has nothing to delete");
});

test("bad arguments, stores that cannot delete and aborted signals are refused first", async () => {
  const given = stores();
  await given.eventLog.persist("counter", "a", null, [bytes(1), bytes(2)]);
  await given.snapshotStore.save("counter", "a", 2, bytes(0));
  const badArgs: [() => Promise<unknown>, RegExp][] = [
    [() => deleteEventsUpTo(given, "bad name", "a"), /typeName/],
    [() => deleteEventsUpTo(given, "counter", ""), /id/],
    [() => deleteEventsUpTo(given, "counter", "a", { toSeqNo: 0 }), /toSeqNo 0/],
    [() => deleteEventsUpTo(given, "counter", "a", { toSeqNo: 1.5 }), /toSeqNo/],
    [() => deleteEventsUpTo(given, "counter", "a", { to: 1 } as never), /option "to"/],
    [() => deleteEventsUpTo(null as never, "counter", "a"), /stores null/],
    [() => deleteEntity(given, "counter", "a", { signal: 1 } as never), /signal/],
    [() => deleteEntity({ ...given, eventLog: undefined } as never, "counter", "a"), /eventLog/],
  ];
  for (const [call, message] of badArgs) {
    await assert.rejects(call, (e: Error) => {
      assert.ok(e instanceof TypeError || e instanceof RangeError, `${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
  // A log and a store of before deletion existed: only the required methods.
  const oldLog: EventLog = {
    persist: given.eventLog.persist.bind(given.eventLog),
    lastSeqNo: given.eventLog.lastSeqNo.bind(given.eventLog),
    eventsById: given.eventLog.eventsById.bind(given.eventLog),
    eventsByType: given.eventLog.eventsByType.bind(given.eventLog),
  };
  const oldStore: SnapshotStore = {
    save: given.snapshotStore.save.bind(given.snapshotStore),
    load: given.snapshotStore.load.bind(given.snapshotStore),
  };
  await assert.rejects(
    deleteEventsUpTo({ ...given, eventLog: oldLog }, "counter", "a"),
    /Cannot deleteEventsUpTo: stores\.eventLog has no deleteEvents method/,
  );
  await assert.rejects(
    deleteEntity({ ...given, eventLog: oldLog }, "counter", "a"),
    /Cannot deleteEntity: stores\.eventLog has no deleteEntity method/,
  );
  await assert.rejects(
    deleteEntity({ ...given, snapshotStore: oldStore }, "counter", "a"),
    /Cannot deleteEntity: stores\.snapshotStore has no delete method/,
  );
  const reason = new Error("not now");
  const signal = AbortSignal.abort(reason);
  await assert.rejects(deleteEventsUpTo(given, "counter", "a", { signal }), (e) => e === reason);
  await assert.rejects(deleteEntity(given, "counter", "a", { signal }), (e) => e === reason);
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "a"), [1, 2]);
  assert.equal((await given.snapshotStore.load("counter", "a"))?.seqNo, 2);
});

test("deleteEntity deletes the snapshot first, then the events; the id starts afresh", async () => {
  const given = stores();
  const ref = await spawnCounter(given, "c1");
  for (let i = 0; i < 4; i++) await ref.handleCommand(increase(5));
  await ref.stop();
  assert.equal((await given.snapshotStore.load("counter", "c1"))?.seqNo, 3);

  // A log whose deleteEntity fails: the snapshot is gone already, the events are all there,
  // and a second call finishes the work.
  const failing: EventLog = Object.create(given.eventLog);
  failing.deleteEntity = () => Promise.reject(new Error("log down"));
  await assert.rejects(deleteEntity({ ...given, eventLog: failing }, "counter", "c1"), /log down/);
  assert.equal(await given.snapshotStore.load("counter", "c1"), null);
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "c1"), [1, 2, 3, 4]);

  assert.deepEqual(await deleteEntity(given, "counter", "c1"), { deleted: 4 });
  assert.equal(await given.eventLog.lastSeqNo("counter", "c1"), null);
  assert.deepEqual(await deleteEntity(given, "counter", "c1"), { deleted: 0 });
  const reborn = await spawnCounter(given, "c1");
  assert.deepEqual(await reborn.handleCommand(get), { ok: true, value: 0 });
  assert.deepEqual(await reborn.handleCommand(increase(1)), { ok: true, value: 1 });
  await reborn.stop();
  assert.deepEqual(await seqNosOf(given.eventLog, "counter", "c1"), [1]);
});

const numbers = jsonBinarize<number, number>();

/** A projection that records the values it handles, from the offset `store` holds. */
function recorder(log: MemoryEventLog, typeName: string, store: MemoryOffsetStore) {
  const seen: number[] = [];
  const projection = new Projection("recorder", {
    typeName,
    eventLog: log,
    binarize: numbers,
    offsetStore: store,
    handleEvent: ({ event }) => void seen.push(event),
  });
  return { projection, seen };
}

async function project(log: MemoryEventLog, typeName: string, store: MemoryOffsetStore) {
  const { projection, seen } = recorder(log, typeName, store);
  await projection.run();
  await within(projection.whenCaughtUp(), 10_000, "whenCaughtUp");
  await projection.stop();
  return seen;
}

test("projections: one behind a deletion never sees the deleted events, one ahead keeps what it saw, a rebuild sees what remains", async () => {
  const given = stores();
  const log = given.eventLog;
  const typeName = uniqueTypeName("account");
  const write = async (id: string, values: number[]) => {
    const last = await log.lastSeqNo(typeName, id);
    await log.persist(typeName, id, last, values.map((v) => numbers.eventToBytes(v)));
  };
  await write("a", [1, 2]);
  await write("b", [10]);
  const behind = new MemoryOffsetStore();
  const ahead = new MemoryOffsetStore();
  assert.deepEqual(await project(log, typeName, behind), [1, 2, 10]);
  await write("a", [3, 4]);
  await write("b", [20, 30]);
  assert.deepEqual(await project(log, typeName, ahead), [1, 2, 10, 3, 4, 20, 30]);

  await given.snapshotStore.save(typeName, "a", 4, bytes(0));
  await given.snapshotStore.save(typeName, "b", 2, bytes(0));
  assert.equal((await deleteEventsUpTo(given, typeName, "a")).deleted, 3);
  assert.equal((await deleteEventsUpTo(given, typeName, "b")).deleted, 2);
  await write("a", [5]);

  assert.deepEqual(await project(log, typeName, behind), [4, 30, 5], "behind: no deleted event");
  assert.deepEqual(await project(log, typeName, ahead), [5], "ahead: only the new event");
  assert.deepEqual(await project(log, typeName, new MemoryOffsetStore()), [4, 30, 5], "rebuilt");

  await deleteEntity(given, typeName, "b");
  await write("b", [99]);
  assert.deepEqual(await project(log, typeName, behind), [99], "the reborn entity's event");
  assert.deepEqual(await project(log, typeName, new MemoryOffsetStore()), [4, 5, 99]);
});
