// Deleting events, run against every backend by delete_sql_test.ts and delete_nats_test.ts: an
// entity deleted up to a snapshot spawns and replays, a deleted entity's id is free again, no
// position is ever given twice (also by a second log whose caches knew the type's last
// position), and live readers go on across deletions.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type EventLog,
  jsonBinarize,
  type PersistedEvent,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, take, uniqueTypeName, within } from "../testing/mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";

/** A log and snapshot store that delete, and a second log on the same storage. */
export interface DeleteBackend {
  readonly log: Required<Pick<EventLog, "deleteEvents" | "deleteEntity">> & EventLog;
  readonly snapshots: Required<Pick<SnapshotStore, "delete">> & SnapshotStore;
  /** Another log on the same storage, with caches of its own; closed by `dispose`. */
  readonly other: () => Promise<
    Required<Pick<EventLog, "deleteEntity" | "deleteEvents">> & EventLog
  >;
  readonly dispose?: (log: EventLog) => Promise<void>;
}

const bytes = (...values: number[]) => new Uint8Array(values);

async function persistEach(log: EventLog, typeName: string, id: string, count: number) {
  let last = await log.lastSeqNo(typeName, id);
  for (let i = 0; i < count; i++) last = await log.persist(typeName, id, last, [bytes(i)]);
}

async function byId(log: EventLog, typeName: string, id: string): Promise<number[]> {
  return (await collect(log.eventsById(typeName, id, 1))).map((event) => event.seqNo);
}

async function byType(log: EventLog, typeName: string): Promise<PersistedEvent[]> {
  return await collect(log.eventsByType(typeName, 0));
}

/** Registers the deletion tests of `name`. */
export function testDeletion(name: string, backend: () => DeleteBackend): void {
  test(`${name}: an entity deleted up to a snapshot spawns, replays and keeps persisting`, async () => {
    const { log, snapshots } = backend();
    const typeName = uniqueTypeName("counter");
    const entity = { ...counter, typeName };
    const binarize = jsonBinarize<CounterEvent, number>();
    let ref = await spawn(entity, "a", { eventLog: log, binarize });
    for (let by = 1; by <= 7; by++) await ref.handleCommand(increase(by));
    await ref.stop();
    await snapshots.save(typeName, "a", 5, binarize.stateToBytes(15));
    assert.equal(await log.deleteEvents(typeName, "a", 5), 5);
    assert.deepEqual(await byId(log, typeName, "a"), [6, 7]);
    assert.equal(await log.lastSeqNo(typeName, "a"), 7);

    ref = await spawn(entity, "a", { eventLog: log, binarize, snapshotStore: snapshots });
    assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 28 });
    assert.deepEqual(await ref.handleCommand(increase(2)), { ok: true, value: 30 });
    await ref.stop();
    assert.deepEqual(await byId(log, typeName, "a"), [6, 7, 8]);
    ref = await spawn(entity, "a", { eventLog: log, binarize, snapshotStore: snapshots });
    assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 30 });
    await ref.stop();
  });

  test(`${name}: deleteEvents keeps the last event and checks its arguments first`, async () => {
    const { log } = backend();
    const typeName = uniqueTypeName();
    await persistEach(log, typeName, "a", 3);
    await assert.rejects(log.deleteEvents(typeName, "a", -1), RangeError);
    await assert.rejects(log.deleteEvents(typeName, "a", 1.5), RangeError);
    await assert.rejects(log.deleteEvents(typeName, "", 2), TypeError);
    await assert.rejects(log.deleteEntity("", "a"), TypeError);
    const signal = AbortSignal.abort(new Error("not now"));
    await assert.rejects(log.deleteEvents(typeName, "a", 2, { signal }), /not now/);
    await assert.rejects(log.deleteEntity(typeName, "a", { signal }), /not now/);
    assert.deepEqual(await byId(log, typeName, "a"), [1, 2, 3]);

    await assert.rejects(log.deleteEvents(typeName, "a", 0), RangeError);
    assert.equal(await log.deleteEvents(typeName, "a", 1), 1);
    assert.equal(await log.deleteEvents(typeName, "a", 100), 1);
    assert.deepEqual(await byId(log, typeName, "a"), [3]);
    assert.equal(await log.deleteEvents(typeName, "a", 100), 0);
    assert.equal(await log.deleteEvents(typeName, "nobody", 5), 0);
    assert.equal(await log.persist(typeName, "a", 3, [bytes(9)]), 4);
    assert.deepEqual(await byId(log, typeName, "a"), [3, 4]);
    const fromThree = await collect(log.eventsById(typeName, "a", 3));
    assert.deepEqual(fromThree.map((event) => [event.seqNo, [...event.bytes]]), [[3, [2]], [4, [
      9,
    ]]]);
  });

  test(`${name}: deleteEntity frees the id, and no position is given twice`, async () => {
    const { log, snapshots } = backend();
    const typeName = uniqueTypeName();
    await persistEach(log, typeName, "a", 1);
    await persistEach(log, typeName, "b", 2);
    const before = await byType(log, typeName);
    const highest = Math.max(...before.map((event) => event.position));
    assert.equal(before.at(-1)!.id, "b");
    await snapshots.save(typeName, "b", 2, bytes(7));

    assert.equal(await log.deleteEntity(typeName, "b"), 2);
    await snapshots.delete(typeName, "b");
    assert.equal(await snapshots.load(typeName, "b"), null);
    assert.equal(await log.lastSeqNo(typeName, "b"), null);
    assert.deepEqual(await byId(log, typeName, "b"), []);
    assert.deepEqual((await byType(log, typeName)).map((event) => event.id), ["a"]);
    if (log.countAfter !== undefined) {
      // Nothing is left after "a", though the deleted positions lie above it.
      assert.equal(await log.countAfter(typeName, before[0]!.position), 0);
      assert.ok(await log.countAfter(typeName, 0) >= 1);
    }
    assert.equal(await log.deleteEntity(typeName, "b"), 0);
    assert.equal(await log.deleteEntity(typeName, "nobody"), 0);

    assert.equal(await log.persist(typeName, "b", null, [bytes(5)]), 1);
    assert.equal(await log.persist(typeName, "c", null, [bytes(6)]), 1);
    const after = await byType(log, typeName);
    assert.deepEqual(after.map((event) => [event.id, event.seqNo]), [["a", 1], ["b", 1], ["c", 1]]);
    assert.ok(after[1]!.position > highest, `position ${after[1]!.position} after ${highest}`);
    assert.ok(after[2]!.position > after[1]!.position);
    await snapshots.save(typeName, "b", 1, bytes(8));
    assert.deepEqual([...(await snapshots.load(typeName, "b"))!.bytes], [8]);
  });

  test(`${name}: a log that knew the type's last position does not reuse a deleted one`, async () => {
    const { log, other } = backend();
    const second = await other();
    try {
      const typeName = uniqueTypeName();
      // The first log learns the type's last position from its own appends.
      await persistEach(log, typeName, "x", 2);
      // The second appends after it, then deletes an entity whole and another in part.
      await persistEach(second, typeName, "y", 1);
      await persistEach(second, typeName, "z", 3);
      const highest = Math.max(...(await byType(log, typeName)).map((event) => event.position));
      assert.equal(await second.deleteEntity(typeName, "y"), 1);
      assert.equal(await second.deleteEvents(typeName, "z", 2), 2);
      assert.equal(await log.persist(typeName, "x", 2, [bytes(3)]), 3);
      assert.equal(await log.persist(typeName, "x", 3, [bytes(4), bytes(5)]), 5);
      const events = await byType(log, typeName);
      assert.deepEqual(
        events.map((event) => [event.id, event.seqNo]),
        [["x", 1], ["x", 2], ["z", 3], ["x", 3], ["x", 4], ["x", 5]],
      );
      assert.ok(events[3]!.position > highest, `position ${events[3]!.position} after ${highest}`);
      // And the other way round: the second log knew nothing of the first's deletion.
      await persistEach(second, typeName, "w", 1);
      assert.equal(await log.deleteEntity(typeName, "w"), 1);
      assert.equal(await second.persist(typeName, "z", 3, [bytes(6)]), 4);
      const last = (await byType(log, typeName)).at(-1)!;
      assert.deepEqual([last.id, last.seqNo], ["z", 4]);
      assert.ok(last.position > events.at(-1)!.position);
    } finally {
      await backend().dispose?.(second);
    }
  });

  test(`${name}: a live reader by type goes on across deletions`, async () => {
    const { log } = backend();
    const typeName = uniqueTypeName();
    const controller = new AbortController();
    const live = log.eventsByType(typeName, 1, { live: true, signal: controller.signal });
    const reader = live.getReader();
    try {
      const read = async () => {
        const { value, done } = await within(reader.read(), 10_000, "a live read");
        assert.equal(done, false);
        return value!;
      };
      await persistEach(log, typeName, "a", 1);
      await persistEach(log, typeName, "b", 2);
      const seen = [await read(), await read(), await read()];
      assert.deepEqual(seen.map((event) => [event.id, event.seqNo]), [["a", 1], ["b", 1], [
        "b",
        2,
      ]]);
      assert.equal(await log.deleteEntity(typeName, "b"), 2);
      await persistEach(log, typeName, "c", 1);
      const next = await read();
      assert.deepEqual([next.id, next.seqNo], ["c", 1]);
      assert.ok(next.position > seen[2]!.position);
      await persistEach(log, typeName, "d", 3);
      assert.equal(await log.deleteEvents(typeName, "d", 2), 2);
      await persistEach(log, typeName, "e", 1);
      // The deleted events may have been read before their deletion; the rest come in order.
      const rest = [];
      for (let event = await read();; event = await read()) {
        rest.push(event);
        if (event.id === "e") break;
      }
      const ids = rest.map((event) => `${event.id}${event.seqNo}`);
      assert.deepEqual(ids.filter((id) => id === "d3" || id === "e1"), ["d3", "e1"]);
      // A reader from the start sees what is left.
      const fresh = await take(log.eventsByType(typeName, 0, { live: true }), 4);
      assert.deepEqual(fresh.map((event) => `${event.id}${event.seqNo}`), ["a1", "c1", "d3", "e1"]);
    } finally {
      controller.abort(new Error("done"));
      reader.releaseLock();
    }
  });
}
