import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Command,
  type Duplicate,
  emitAndReply,
  EntityRegistry,
  isHandleCommandError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  reject,
  type Result,
  spawn,
  StorageError,
} from "../mod.ts";
import { collect } from "../testing/mod.ts";
import { counter, type CounterError, type CounterEvent, get, increase } from "./_counter.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();
const withId = (commandId: string) => ({ metadata: { commandId } });

test("a repeated commandId is answered as a Duplicate and writes nothing", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  assert.deepEqual(await ref.handleCommand(increase(5), withId("x")), { ok: true, value: 5 });
  const again = await ref.handleCommand(increase(5), withId("x"));
  assert.deepEqual(again, { ok: true, duplicate: true, value: undefined, seqNo: 1 });
  assert.deepEqual(await ref.handleCommand(increase(1), withId("y")), { ok: true, value: 6 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 2);
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 6 });
  await ref.stop();
});

test("the duplicate answer names the last event of a multi-event command", async () => {
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  const three: Command<number, CounterEvent, number, never> = {
    handleCommand: () =>
      emitAndReply([1, 2, 3].map((by) => ({ type: "increased" as const, by })), (s) => s),
  };
  await ref.handleCommand(increase(1), withId("before"));
  await ref.handleCommand(three, withId("three"));
  assert.deepEqual(await ref.handleCommand(three, withId("three")), {
    ok: true,
    duplicate: true,
    value: undefined,
    seqNo: 4,
  });
  await ref.stop();
});

test("duplicates queued behind the original are recognised once it is persisted", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const results = await Promise.all(
    Array.from({ length: 4 }, () => ref.handleCommand(increase(2), withId("same"))),
  );
  assert.deepEqual(results[0], { ok: true, value: 2 });
  for (const result of results.slice(1)) assert.ok("duplicate" in result && result.duplicate);
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 1);
  await ref.stop();
});

test("rejections and replies are not remembered: the same commandId runs again", async () => {
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  const withdraw: Command<number, CounterEvent, number, CounterError> = {
    handleCommand: (_id, state) =>
      state < 3 ? reject("Underflow") : emitAndReply({ type: "decreased", by: 3 }, (s) => s),
  };
  assert.deepEqual(await ref.handleCommand(withdraw, withId("w")), {
    ok: false,
    error: "Underflow",
  });
  await ref.handleCommand(increase(5));
  assert.deepEqual(await ref.handleCommand(withdraw, withId("w")), { ok: true, value: 2 });
  assert.ok("duplicate" in await ref.handleCommand(withdraw, withId("w")));
  await ref.stop();
});

test("command ids survive a respawn: they are read back from the log", async () => {
  const eventLog = new MemoryEventLog();
  const first = await spawn(counter, "a", { eventLog, binarize });
  await first.handleCommand(increase(1), withId("one"));
  await first.handleCommand(increase(2), withId("two"));
  await first.stop();
  const second = await spawn(counter, "a", { eventLog, binarize });
  assert.deepEqual(await second.handleCommand(increase(1), withId("one")), {
    ok: true,
    duplicate: true,
    value: undefined,
    seqNo: 1,
  });
  assert.deepEqual(await second.handleCommand(get), { ok: true, value: 3 });
  await second.stop();
});

test("command ids survive a spawn from a snapshot: the events before it are read once, when needed", async () => {
  const inner = new MemoryEventLog();
  const eventLog = new WrappedEventLog(inner);
  const snapshotStore = new MemorySnapshotStore();
  const options = { eventLog, binarize, snapshotStore, snapshotAfter: 5 };
  const first = await spawn(counter, "a", options);
  for (let i = 1; i <= 12; i++) await first.handleCommand(increase(1), withId(`c${i}`));
  await first.stop();
  assert.equal((await snapshotStore.load("counter", "a"))?.seqNo, 10);

  const second = await spawn(counter, "a", options);
  const readsAfterSpawn = eventLog.calls.eventsById;
  // A command without a commandId needs no earlier ids.
  await second.handleCommand(get);
  assert.equal(eventLog.calls.eventsById, readsAfterSpawn);
  // c3 was written before the snapshot (seqNo 3): its id is read back from the log.
  assert.deepEqual(await second.handleCommand(increase(1), withId("c3")), {
    ok: true,
    duplicate: true,
    value: undefined,
    seqNo: 3,
  });
  assert.equal(eventLog.calls.eventsById, readsAfterSpawn + 1);
  assert.ok("duplicate" in await second.handleCommand(increase(1), withId("c12")));
  assert.ok("duplicate" in await second.handleCommand(increase(1), withId("c1")));
  assert.equal(eventLog.calls.eventsById, readsAfterSpawn + 1, "the earlier ids are read once");
  assert.deepEqual(await second.handleCommand(get), { ok: true, value: 12 });
  await second.stop();
});

test("the window is bounded: an id whose events are deduplicationWindow events back runs again", async () => {
  const eventLog = new MemoryEventLog();
  const options = { eventLog, binarize, deduplicationWindow: 3 };
  const ref = await spawn(counter, "a", options);
  await ref.handleCommand(increase(1), withId("old"));
  await ref.handleCommand(increase(1), withId("b"));
  await ref.handleCommand(increase(1), withId("c"));
  // "old" (seqNo 1) is still among the last 3 events.
  assert.ok("duplicate" in await ref.handleCommand(increase(1), withId("old")));
  await ref.handleCommand(increase(1), withId("d"));
  // Now the last 3 events are 2, 3, 4: "old" is forgotten and applied again.
  assert.deepEqual(await ref.handleCommand(increase(1), withId("old")), { ok: true, value: 5 });
  await ref.stop();
  // A respawn remembers the same window.
  const again = await spawn(counter, "a", options);
  assert.ok("duplicate" in await again.handleCommand(increase(1), withId("old")));
  assert.deepEqual(await again.handleCommand(increase(1), withId("b")), { ok: true, value: 6 });
  await again.stop();
});

test("deduplicationWindow 0 turns deduplication off", async () => {
  const ref = await spawn(counter, "a", {
    eventLog: new MemoryEventLog(),
    binarize,
    deduplicationWindow: 0,
  });
  await ref.handleCommand(increase(1), withId("x"));
  assert.deepEqual(await ref.handleCommand(increase(1), withId("x")), { ok: true, value: 2 });
  await ref.stop();
  await assert.rejects(
    spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize, deduplicationWindow: -1 }),
    /deduplicationWindow/,
  );
});

test("a retry after an unknown outcome is safe: the write that happened is found, not repeated", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  eventLog.nextPersist = async (write) => {
    await write();
    throw new StorageError("the answer was lost", { reason: "outcome-unknown" });
  };
  const lost = await ref.handleCommand(increase(7), withId("pay-1")).catch((e) => e);
  assert.ok(isHandleCommandError(lost));
  assert.equal(lost.reason, "persist-outcome-unknown");
  // The caller retries with the same commandId: the entity re-reads the log and finds it.
  assert.deepEqual(await ref.handleCommand(increase(7), withId("pay-1")), {
    ok: true,
    duplicate: true,
    value: undefined,
    seqNo: 1,
  });
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 7 });
  assert.equal((await collect(eventLog.eventsById("counter", "a", 1))).length, 1);
  await ref.stop();
});

test("the registry passes command ids through, and duplicates survive passivation", async () => {
  const eventLog = new MemoryEventLog();
  const registry = new EntityRegistry(counter, { eventLog, binarize });
  await registry.handleCommand("a", increase(3), withId("x"));
  await registry.passivate("a");
  const again = await registry.handleCommand("a", increase(3), withId("x"));
  assert.ok("duplicate" in again && again.seqNo === 1);
  await registry.close();
});

test("types: without a commandId the answer is a Result; with one it may be a Duplicate", async () => {
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  const plain: Result<number, CounterError> = await ref.handleCommand(increase(1));
  const correlated: Result<number, CounterError> = await ref.handleCommand(increase(1), {
    metadata: { correlationId: "c" },
  });
  const retried: Result<number, CounterError> | Duplicate = await ref.handleCommand(
    increase(1),
    withId("r"),
  );
  assert.deepEqual([plain, correlated, retried], [
    { ok: true, value: 1 },
    { ok: true, value: 2 },
    { ok: true, value: 3 },
  ]);
  await ref.stop();
});
