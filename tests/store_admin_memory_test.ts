import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryEventLog, MemorySnapshotStore } from "../mod.ts";
import { memoryStoreAdmin, type MemoryStoreAdminOptions } from "../admin/mod.ts";
import { MemoryOffsetStore } from "../projection/mod.ts";
import { isStorageError } from "../mod.ts";
import { testStoreAdmin } from "../testing/mod.ts";

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
