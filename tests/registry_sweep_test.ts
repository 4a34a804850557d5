// The registry's passivation sweep walks the live entities a chunk at a time, letting other
// work run between chunks: every idle entity is still passivated, past the first chunk too,
// and an entity in use is not.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EntityRegistry, jsonBinarize, MemoryEventLog } from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";

const binarize = jsonBinarize<CounterEvent, number>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a sweep over more entities than one chunk passivates every idle one", async () => {
  const eventLog = new MemoryEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize, passivateAfter: 40 });
  const count = 25_000; // two and a half chunks
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from({ length: 1000 }, (_, k) => registry.handleCommand(`e${i + k}`, increase(1))),
    );
  }
  assert.equal(registry.size, count);
  const deadline = Date.now() + 20_000;
  while (registry.size > 1 && Date.now() < deadline) {
    await registry.handleCommand("busy", increase(1)); // used all along: stays live
    await sleep(5);
  }
  assert.equal(registry.size, 1, "every idle entity was passivated");
  assert.ok((await registry.handleCommand("busy", get)).ok);
  assert.deepEqual(await registry.handleCommand("e24999", get), { ok: true, value: 1 });
});

test("closing the registry during a sweep ends it", async () => {
  const eventLog = new MemoryEventLog();
  const registry = new EntityRegistry(counter, { eventLog, binarize, passivateAfter: 4 });
  await Promise.all(
    Array.from({ length: 30_000 }, (_, i) => registry.handleCommand(`e${i}`, increase(1))),
  );
  await sleep(30); // sweeps have started walking
  await registry.close();
  assert.equal(registry.size, 0);
  await assert.rejects(registry.handleCommand("e1", get), /closed/);
});
