// copyStore between the memory store and PGlite (in-process), and its argument checks.

import { after, before, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { PgliteStoreAdmin } from "../adapters/pglite/mod.ts";
import assert from "node:assert/strict";
import { MemoryEventLog, MemorySnapshotStore } from "../mod.ts";
import { copyStore, memoryStoreAdmin, type StoreAdmin } from "../admin/mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
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
