import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type CallOptions,
  isStorageError,
  MemoryEventLog,
  type MemoryEventLogOptions,
  MemorySnapshotStore,
  type ReadOptions,
} from "../mod.ts";
import { testEventLog, testSnapshotStore } from "../testing/mod.ts";

testEventLog("MemoryEventLog", () => new MemoryEventLog());
testSnapshotStore("MemorySnapshotStore", () => new MemorySnapshotStore());

test("MemoryEventLog refuses an event over maxEventBytes before writing, as a too-large StorageError", async () => {
  const log = new MemoryEventLog({ maxEventBytes: 4 });
  const error = await log.persist("counter", "a", null, [new Uint8Array(4), new Uint8Array(5)])
    .catch((e) => e);
  assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
  assert.equal(error.reason, "too-large");
  assert.match(error.message, /events\[1\] has 5 bytes, more than maxEventBytes \(4\)/);
  assert.equal(await log.lastSeqNo("counter", "a"), null);
  assert.equal(await log.persist("counter", "a", null, [new Uint8Array(4)]), 1);
});

test("the memory stores refuse unknown option keys and bad option values", async () => {
  assert.throws(
    () => new MemoryEventLog({ maxEventByte: 4 } as MemoryEventLogOptions),
    /Unknown MemoryEventLog option "maxEventByte": known options are maxEventBytes/,
  );
  assert.throws(
    () => new MemoryEventLog({ maxEventBytes: 0 }),
    /MemoryEventLog option maxEventBytes 0: expected a positive integer/,
  );
  const log = new MemoryEventLog();
  const typo = { signl: AbortSignal.abort() } as CallOptions;
  await assert.rejects(
    log.persist("counter", "a", null, [new Uint8Array(1)], typo),
    /Unknown persist option "signl"/,
  );
  await assert.rejects(log.lastSeqNo("counter", "a", typo), /Unknown lastSeqNo option "signl"/);
  assert.throws(
    () => log.eventsById("counter", "a", 1, { lve: true } as ReadOptions),
    /Unknown eventsById option "lve": known options are live, signal/,
  );
  assert.throws(
    () => log.eventsByType("counter", 1, { live: "yes" as unknown as boolean }),
    /eventsByType option live "yes": expected a boolean/,
  );
  assert.equal(await log.lastSeqNo("counter", "a"), null);
  const store = new MemorySnapshotStore();
  await assert.rejects(
    store.save("counter", "a", 1, new Uint8Array(1), typo),
    /Unknown save option "signl"/,
  );
  await assert.rejects(store.load("counter", "a", typo), /Unknown load option "signl"/);
});
