// copyStore between the memory store and PGlite (in-process), and its argument checks.

import { after, before, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { PgliteStoreAdmin } from "../adapters/pglite/mod.ts";
import assert from "node:assert/strict";
import {
  deleteEntity,
  deleteEventsUpTo,
  MemoryEventLog,
  MemorySnapshotStore,
  type PersistedEvent,
} from "../mod.ts";
import { copyStore, memoryStoreAdmin, type StoreAdmin } from "../admin/mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { testCopy } from "./copy_suite.ts";
import { eventCounts, fillStore, freshTables } from "./copy_fixtures.ts";

function openMemory(): Promise<StoreAdmin> {
  return Promise.resolve(memoryStoreAdmin({
    eventLog: new MemoryEventLog(),
    snapshotStore: new MemorySnapshotStore(),
  }));
}

let db: PGlite;

before(async () => {
  db = await PGlite.create();
}, { timeout: 60_000 });

after(async () => {
  await db?.close();
}, { timeout: 60_000 });

function openPglite(): Promise<StoreAdmin> {
  return freshTables((options) => new PgliteStoreAdmin(db, options));
}

testCopy("memory to memory", openMemory, openMemory);
testCopy("memory to PGlite", openMemory, openPglite);
testCopy("PGlite to memory", openPglite, openMemory);

test("copyStore refuses bad arguments with a clear error, before any write", async () => {
  const source = await openMemory();
  const target = await openMemory();
  await fillStore(source, [uniqueTypeName()], 1, 2);
  const cases: [unknown[], RegExp][] = [
    [[null, target], /^TypeError: Invalid source null: expected a StoreAdmin/],
    [
      [{ eventLog: {} }, target],
      /^TypeError: Invalid source: expected a StoreAdmin, missing "entityTypes"/,
    ],
    [
      [source, "postgres://x"],
      /^TypeError: Invalid target "postgres:\/\/x": expected a StoreAdmin/,
    ],
    [[source, source], /^TypeError: Invalid target: the same StoreAdmin as the source/],
    [[source, target, 5], /^TypeError: Invalid options 5: expected an object/],
    [
      [source, target, { batchSize: 0 }],
      /^RangeError: Invalid batchSize 0: expected a positive integer/,
    ],
    [
      [source, target, { batchSize: 10_001 }],
      /^RangeError: Invalid batchSize 10001: at most 10000/,
    ],
    [
      [source, target, { onProgress: "log" }],
      /^TypeError: Invalid onProgress "log": expected a function/,
    ],
    [[source, target, { force: "yes" }], /^TypeError: Invalid force "yes": expected a boolean/],
    [
      [source, target, { signal: {} }],
      /^TypeError: Invalid signal \[object Object\]: expected an AbortSignal/,
    ],
    [[source, target, { progressIntervalMs: -1 }], /^RangeError: Invalid progressIntervalMs -1/],
  ];
  for (const [args, expected] of cases) {
    await assert.rejects(
      (copyStore as (...a: unknown[]) => Promise<unknown>)(...args),
      (error: Error) => expected.test(`${error.name}: ${error.message}`),
      String(expected),
    );
  }
  await assert.rejects(
    copyStore(source, target, { signal: AbortSignal.abort(new Error("stop")) }),
    /stop/,
  );
  assert.deepEqual(await eventCounts(target), {});
});

test("copyStore reports progress at most once per interval, and at the verification and the end", async () => {
  const source = await openMemory();
  const target = await openMemory();
  const typeName = uniqueTypeName();
  const total = await fillStore(source, [typeName]);
  const phases: string[] = [];
  await copyStore(source, target, {
    batchSize: 1,
    progressIntervalMs: 3_600_000,
    onProgress: (p) => phases.push(`${p.phase} ${p.events}`),
  });
  // The first batch reports at once; the rest of the hour-long interval passes only at the end.
  assert.deepEqual(phases, ["events 1", `verify ${total}`, `verify ${total}`]);
});

test("copyStore names a store that was never set up, before any write", async () => {
  const source = await openMemory();
  await fillStore(source, [uniqueTypeName()], 1, 2);
  const bare = new PgliteStoreAdmin(db, { tablePrefix: "never_set_up_" });
  await assert.rejects(
    copyStore(source, bare),
    /^Error: The target pglite store is not set up: call setup\(\) on it first/,
  );
  await assert.rejects(
    copyStore(bare, source),
    /^Error: The source pglite store is not set up: call setup\(\) on it first/,
  );
  assert.equal((await bare.schema()).installed, null);
});

test("copyStore copies a store with deleted events: kept events, their seqNos and positions", async () => {
  const source = await openMemory();
  const target = await openMemory();
  const stores = { eventLog: source.eventLog, snapshotStore: source.snapshotStore };
  const typeName = uniqueTypeName();
  const one = (n: number) => [new Uint8Array([n])];
  await source.eventLog.persist(
    typeName,
    "a",
    null,
    [1, 2, 3, 4, 5].map((n) => new Uint8Array([n])),
  );
  await source.eventLog.persist(typeName, "b", null, one(6));
  await source.eventLog.persist(typeName, "a", 5, one(7));
  await source.eventLog.persist(typeName, "c", null, one(8));
  await source.snapshotStore.save(typeName, "a", 4, new Uint8Array([0]));
  assert.equal((await deleteEventsUpTo(stores, typeName, "a")).deleted, 4);
  assert.equal((await deleteEntity(stores, typeName, "b")).deleted, 1);
  await source.eventLog.persist(typeName, "d", null, one(9));

  const report = await copyStore(source, target, { batchSize: 2 });
  assert.deepEqual([report.events, report.entities, report.snapshots], [4, 3, 1]);
  assert.equal(report.verification?.ok, true);
  const fields = (events: PersistedEvent[]) =>
    events.map((e) => [e.id, e.seqNo, e.position, e.bytes[0]]);
  const copied = fields(await collect(target.eventLog.eventsByType(typeName, 0)));
  assert.deepEqual(copied, fields(await collect(source.eventLog.eventsByType(typeName, 0))));
  assert.deepEqual(copied, [["a", 5, 5, 5], ["a", 6, 7, 7], ["c", 1, 8, 8], ["d", 1, 9, 9]]);
  assert.equal(await target.eventLog.lastSeqNo(typeName, "a"), 6);
  assert.equal(await target.eventLog.lastSeqNo(typeName, "b"), null);
  assert.equal(await target.eventLog.persist(typeName, "a", 6, one(10)), 7);
  const [appended] = await collect(target.eventLog.eventsById(typeName, "a", 7));
  assert.equal(appended!.position, 10, "the target numbers on after the copied positions");
});
