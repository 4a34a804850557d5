// EntityRegistry keeps one live entity per id: a command that arrives while the same id is
// being passivated waits for the old incarnation to stop, then goes to a new one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EntityRegistry, isConcurrencyError, jsonBinarize } from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { delayed, WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();

test("commands racing an explicit passivate never meet two live entities", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize, passivateAfter: 0 });
  const rounds = 100;
  let conflicts = 0;
  let otherFailures = 0;
  const count = (sent: Promise<unknown>) =>
    sent.catch((error) => {
      if (isConcurrencyError(error?.cause)) conflicts++;
      else otherFailures++;
    });
  for (let i = 0; i < rounds; i++) {
    await registry.get("a");
    eventLog.nextPersist = delayed(1);
    const before = count(registry.handleCommand("a", increase(1)));
    const passivated = registry.passivate("a");
    const after = count(registry.handleCommand("a", increase(1)));
    await Promise.all([before, passivated, after]);
  }
  assert.equal(conflicts, 0, "no ConcurrencyError");
  assert.equal(otherFailures, 0);
  assert.deepEqual(await registry.handleCommand("a", get), { ok: true, value: 2 * rounds });
});

test("a command sent through a ref that was passivated meanwhile goes to the new incarnation", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, { eventLog, binarize, passivateAfter: 0 });
  await registry.handleCommand("a", increase(1));
  eventLog.nextPersist = delayed(5);
  const slow = registry.handleCommand("a", increase(1));
  const stopping = registry.passivate("a");
  const next = registry.handleCommand("a", increase(1));
  assert.deepEqual(await slow, { ok: true, value: 2 });
  await stopping;
  assert.deepEqual(await next, { ok: true, value: 3 });
  assert.equal(registry.size, 1);
});
