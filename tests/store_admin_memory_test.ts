import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryEventLog, MemorySnapshotStore } from "../mod.ts";
import { memoryStoreAdmin, type MemoryStoreAdminOptions } from "../admin/mod.ts";
import { MemoryOffsetStore } from "../projection/mod.ts";
import { isStorageError } from "../mod.ts";
import { collect, testStoreAdmin } from "../testing/mod.ts";

const offsetStore = new MemoryOffsetStore();
const eventLog = new MemoryEventLog();
const snapshotStore = new MemorySnapshotStore();

testStoreAdmin(
  "memoryStoreAdmin",
  () => memoryStoreAdmin({ eventLog, snapshotStore, offsetStore }),
  {
    fresh: () =>
      memoryStoreAdmin({
        eventLog: new MemoryEventLog(),
        snapshotStore: new MemorySnapshotStore(),
      }),
    offsetStore: () => offsetStore,
  },
);

test("memoryStoreAdmin refuses stores of another kind and unknown options", () => {
  const stores = { eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() };
  assert.throws(
    () => memoryStoreAdmin({ ...stores, eventLog: {} } as unknown as MemoryStoreAdminOptions),
    /Invalid memoryStoreAdmin option eventLog .*expected a MemoryEventLog/,
  );
  assert.throws(
    () =>
      memoryStoreAdmin(
        { ...stores, snapshotStore: undefined } as unknown as MemoryStoreAdminOptions,
      ),
    /Invalid memoryStoreAdmin option snapshotStore undefined: expected a MemorySnapshotStore/,
  );
  assert.throws(
    () => memoryStoreAdmin({ ...stores, offsetStore: {} } as unknown as MemoryStoreAdminOptions),
    /option offsetStore .*expected a MemoryOffsetStore/,
  );
  assert.throws(
    () => memoryStoreAdmin({ ...stores, log: 1 } as unknown as MemoryStoreAdminOptions),
    /Unknown memoryStoreAdmin option "log"/,
  );
});

test("memoryStoreAdmin without an offsetStore lists no projections and refuses a reset", async () => {
  const admin = memoryStoreAdmin({
    eventLog: new MemoryEventLog(),
    snapshotStore: new MemorySnapshotStore(),
  });
  assert.deepEqual(await admin.projections(), []);
  const error = await admin.resetProjection("p", 0).catch((e) => e);
  assert.ok(isStorageError(error) && error.reason === "invalid-configuration", String(error));
  assert.match(error.message, /made without an offsetStore/);
});

test("a memory log with imported gapped positions reads from any position", async () => {
  const log = new MemoryEventLog();
  const admin = memoryStoreAdmin({ eventLog: log, snapshotStore: new MemorySnapshotStore() });
  const at = (seqNo: number, position: number) => ({
    typeName: "t",
    id: "a",
    seqNo,
    position,
    bytes: new Uint8Array([seqNo]),
    version: 1,
    writtenAt: 0,
    metadata: {},
  });
  await admin.importEvents([at(1, 10), at(2, 20), at(3, 30)]);
  const from = async (position: number) =>
    (await collect(log.eventsByType("t", position))).map((e) => e.position);
  assert.deepEqual(await from(0), [10, 20, 30]);
  assert.deepEqual(await from(2), [10, 20, 30]);
  assert.deepEqual(await from(11), [20, 30]);
  assert.deepEqual(await from(30), [30]);
  assert.deepEqual(await from(31), []);
  await log.persist("t", "a", 3, [new Uint8Array([4])]);
  assert.deepEqual(await from(25), [30, 31]);
});
