// The bounded mailbox: commandBufferSize commands wait behind the running one, a sender beyond
// that is refused at once with "mailbox-full", and the entity is unharmed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EntityRegistry, isHandleCommandError, jsonBinarize, spawn } from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { type PersistHook, WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();

/** A persist that waits until `release()` is called. */
function gate(): { hook: PersistHook; release: () => void } {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { hook: async (write) => (await opened, write()), release };
}

/** Lets every already settled promise run its callbacks. */
const drain = () => new Promise((resolve) => setTimeout(resolve, 0));

test("under overload exactly commandBufferSize commands queue, the rest are refused at once", async () => {
  const eventLog = new WrappedEventLog();
  const size = 16;
  const ref = await spawn(counter, "a", { eventLog, binarize, commandBufferSize: size });
  const { hook, release } = gate();
  eventLog.nextPersist = hook;
  const running = ref.handleCommand(increase(1));
  const senders = 100_000;
  let refused = 0;
  let otherFailures = 0;
  const queued: Promise<unknown>[] = [];
  for (let i = 0; i < senders; i++) {
    const sent = ref.handleCommand(increase(1));
    if (i < size) {
      queued.push(sent);
    } else {
      sent.catch((error) => {
        if (isHandleCommandError(error) && error.reason === "mailbox-full") refused++;
        else otherFailures++;
      });
    }
  }
  await drain();
  assert.equal(refused, senders - size);
  assert.equal(otherFailures, 0);
  assert.equal(eventLog.calls.persist, 1, "only the running command reached the log");
  release();
  assert.deepEqual(await running, { ok: true, value: 1 });
  assert.deepEqual(
    (await Promise.all(queued)).map((r) => (r as { value: number }).value),
    Array.from({ length: size }, (_, i) => i + 2),
  );
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: size + 1 });
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: size + 2 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), size + 2);
  await ref.stop();
});

test("the mailbox-full error names the entity and the buffer size, and nothing is written", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize, commandBufferSize: 1 });
  const { hook, release } = gate();
  eventLog.nextPersist = hook;
  const running = ref.handleCommand(increase(1));
  const waiting = ref.handleCommand(increase(2));
  const error = await ref.handleCommand(increase(4)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "mailbox-full");
  assert.match(error.message, /"counter\/a".*mailbox is full \(1 commands/);
  release();
  await Promise.all([running, waiting]);
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 3 });
  await ref.stop();
});

test("a waiting command withdrawn by its signal frees its room at once", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize, commandBufferSize: 1 });
  const { hook, release } = gate();
  eventLog.nextPersist = hook;
  const running = ref.handleCommand(increase(1));
  const controller = new AbortController();
  const withdrawn = ref.handleCommand(increase(10), { signal: controller.signal });
  controller.abort(new Error("gone"));
  assert.equal((await withdrawn.catch((e) => e)).reason, "aborted");
  const next = ref.handleCommand(increase(100));
  release();
  assert.deepEqual(await running, { ok: true, value: 1 });
  assert.deepEqual(await next, { ok: true, value: 101 });
  await ref.stop();
});

test("many aborted waiting commands do not fill the mailbox", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize, commandBufferSize: 2 });
  const { hook, release } = gate();
  eventLog.nextPersist = hook;
  const running = ref.handleCommand(increase(1));
  for (let i = 0; i < 1000; i++) {
    const controller = new AbortController();
    const sent = ref.handleCommand(increase(1), { signal: controller.signal });
    controller.abort();
    assert.equal((await sent.catch((e) => e)).reason, "aborted");
  }
  const last = [ref.handleCommand(increase(2)), ref.handleCommand(increase(3))];
  release();
  await running;
  assert.deepEqual(await Promise.all(last), [{ ok: true, value: 3 }, { ok: true, value: 6 }]);
  await ref.stop();
});

test("EntityRegistry passes commandBufferSize to its entities", async () => {
  const eventLog = new WrappedEventLog();
  await using registry = new EntityRegistry(counter, {
    eventLog,
    binarize,
    commandBufferSize: 1,
  });
  await registry.handleCommand("a", increase(1));
  const { hook, release } = gate();
  eventLog.nextPersist = hook;
  const running = registry.handleCommand("a", increase(1));
  const waiting = registry.handleCommand("a", increase(1));
  const error = await registry.handleCommand("a", increase(1)).catch((e) => e);
  assert.equal(error.reason, "mailbox-full");
  release();
  assert.deepEqual(await Promise.all([running, waiting]), [
    { ok: true, value: 2 },
    { ok: true, value: 3 },
  ]);
});
