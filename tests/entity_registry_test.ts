import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EntityRegistry,
  type EntityRegistryOptions,
  isHandleCommandError,
  jsonBinarize,
  MemorySnapshotStore,
} from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("the registry spawns an entity on its first command and reuses it afterwards", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize });
  assert.equal(registry.size, 0);
  assert.deepEqual(await registry.handleCommand("a", increase(1)), { ok: true, value: 1 });
  assert.deepEqual(await registry.handleCommand("a", increase(2)), { ok: true, value: 3 });
  assert.deepEqual(await registry.handleCommand("b", increase(5)), { ok: true, value: 5 });
  assert.equal(registry.size, 2);
  assert.equal(eventLog.calls.eventsById, 2, "one recovery per entity");
  assert.equal(await registry.get("a"), await registry.get("a"));
});

test("concurrent first commands for one id share a single spawn", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize });
  const results = await Promise.all(
    Array.from({ length: 20 }, () => registry.handleCommand("a", increase(1))),
  );
  assert.deepEqual(
    results.map((r) => r.ok && r.value).sort((x, y) => Number(x) - Number(y)),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  assert.equal(eventLog.calls.eventsById, 1);
});

test("an idle entity is passivated and recovered from the log on its next command", async () => {
  const eventLog = new WrappedEventLog();
  const snapshotStore = new MemorySnapshotStore();
  await using registry = new EntityRegistry(counter, {
    eventLog,
    binarize,
    snapshotStore,
    snapshotAfter: 2,
    passivateAfter: 20,
  });
  await registry.handleCommand("a", increase(4));
  await registry.handleCommand("a", increase(4));
  const deadline = Date.now() + 5_000;
  while (registry.size > 0 && Date.now() < deadline) await sleep(10);
  assert.equal(registry.size, 0, "passivated");
  assert.deepEqual(await registry.handleCommand("a", get), { ok: true, value: 8 });
  assert.equal(eventLog.calls.eventsById, 2, "spawned again after passivation");
  assert.equal((await snapshotStore.load("counter", "a"))?.seqNo, 2);
});

test("an entity in use is not passivated", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize, passivateAfter: 40 });
  for (let i = 0; i < 12; i++) {
    await registry.handleCommand("a", increase(1));
    await sleep(5);
  }
  assert.equal(registry.size, 1);
  assert.equal(eventLog.calls.eventsById, 1);
});

test("passivate stops one entity after its queued commands", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize });
  const pending = registry.handleCommand("a", increase(1));
  await registry.passivate("a");
  assert.deepEqual(await pending, { ok: true, value: 1 });
  assert.equal(registry.size, 0);
  assert.deepEqual(await registry.handleCommand("a", get), { ok: true, value: 1 });
});

test("a failed spawn is not cached: the next command tries again", async () => {
  const eventLog = new WrappedEventLog();
  await eventLog.inner.persist("counter", "a", null, [new Uint8Array([0xff])]);
  await using registry = new EntityRegistry(counter, { eventLog, binarize });
  const error = await registry.handleCommand("a", get).catch((e) => e);
  assert.match(String(error), /Cannot spawn "counter\/a"/);
  assert.equal(registry.size, 0);
  await registry.handleCommand("a", get).catch(() => {});
  assert.equal(eventLog.calls.eventsById, 2);
});

test("close stops every entity and refuses further commands", async () => {
  const eventLog = new WrappedEventLog();
  const registry = new EntityRegistry(counter, { eventLog, binarize });
  await registry.handleCommand("a", increase(1));
  await registry.handleCommand("b", increase(1));
  await registry.close();
  assert.equal(registry.size, 0);
  const error = await registry.handleCommand("a", increase(1)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "stopped");
});

test("bad registry options and ids are refused clearly", async () => {
  const eventLog = new WrappedEventLog();
  assert.throws(
    () => new EntityRegistry(counter, { eventLog, binarize, passivateAfter: -1 }),
    /passivateAfter -1/,
  );
  assert.throws(
    () => new EntityRegistry({ ...counter, typeName: "x y" }, { eventLog, binarize }),
    /typeName/,
  );
  assert.throws(
    () =>
      new EntityRegistry(counter, {
        eventLog,
        binarize,
        passivateAfterMs: 5,
      } as unknown as EntityRegistryOptions<number, CounterEvent>),
    /Unknown EntityRegistry option "passivateAfterMs": known options are .*passivateAfter/,
  );
  assert.throws(
    () => new EntityRegistry(counter, { eventLog, binarize, commandBufferSize: 0 }),
    /EntityRegistry option commandBufferSize 0: expected a positive integer/,
  );
  await using registry = new EntityRegistry(counter, { eventLog, binarize });
  await assert.rejects(registry.handleCommand("", get), /id ""/);
  await assert.rejects(
    registry.handleCommand("a", get, { sigal: 1 } as unknown as { signal?: AbortSignal }),
    /Unknown handleCommand option "sigal"/,
  );
  assert.equal(eventLog.calls.eventsById, 0);
});
