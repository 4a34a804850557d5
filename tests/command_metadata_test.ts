import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Command,
  emit,
  emitAndReply,
  EntityRegistry,
  type EventMetadata,
  EventReader,
  isHandleCommandError,
  jsonBinarize,
  MemoryEventLog,
  reply,
  spawn,
} from "../mod.ts";
import { given } from "../testing/mod.ts";
import { collect } from "../testing/mod.ts";
import { counter, type CounterEvent, increase } from "./_counter.ts";

const binarize = jsonBinarize<CounterEvent, number>();

test("every event of a command carries its metadata, on the log and through the EventReader", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const twice: Command<number, CounterEvent, number, never> = {
    handleCommand: () =>
      emitAndReply([{ type: "increased", by: 1 }, { type: "increased", by: 2 }], (s) => s),
  };
  const metadata = {
    commandId: "cmd-1",
    correlationId: "order-7",
    causationId: "event-3",
    headers: { user: "ada", "trace.id": "abc" },
  };
  await ref.handleCommand(twice, { metadata });
  await ref.handleCommand(increase(4));
  const events = await collect(eventLog.eventsById("counter", "a", 1));
  assert.deepEqual(events.map((e) => e.metadata), [metadata, metadata, {}]);
  const read = await collect(new EventReader(counter, { eventLog, binarize }).eventsByType());
  assert.deepEqual(read.map((e) => [e.event.by, e.metadata.correlationId, e.version]), [
    [1, "order-7", 1],
    [2, "order-7", 1],
    [4, undefined, 1],
  ]);
  assert.ok(read.every((e) => typeof e.writtenAt === "number" && e.writtenAt > 0));
  await ref.stop();
});

test("a command handler sees the metadata it was sent with, and {} without", async () => {
  const seen: EventMetadata[] = [];
  const spy: Command<number, CounterEvent, number, never> = {
    handleCommand: (_id, state, metadata) => {
      seen.push(metadata);
      return reply(state);
    },
  };
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  await ref.handleCommand(spy, { metadata: { correlationId: "c" } });
  await ref.handleCommand(spy);
  await ref.handleCommand(spy, { metadata: {} });
  assert.deepEqual(seen, [{ correlationId: "c" }, {}, {}]);
  const outcome = given(counter).when(spy, { causationId: "x" });
  assert.deepEqual(outcome.result, { ok: true, value: 0 });
  assert.deepEqual(seen.at(-1), { causationId: "x" });
  await ref.stop();
});

test("a reaction carries the causation on: the handler passes its metadata to the next command", async () => {
  const eventLog = new MemoryEventLog();
  const registry = new EntityRegistry(counter, { eventLog, binarize });
  // A step of a saga: increase "b" on behalf of the command that increased "a".
  const relay: Command<number, CounterEvent, EventMetadata, never> = {
    handleCommand: (id, _state, metadata) =>
      emitAndReply({ type: "increased", by: 1 }, () => ({
        correlationId: metadata.correlationId!,
        causationId: `${id}:${metadata.commandId}`,
      })),
  };
  const first = await registry.handleCommand("a", relay, {
    metadata: { commandId: "c1", correlationId: "saga-1" },
  });
  assert.ok(first.ok && !("duplicate" in first));
  await registry.handleCommand("b", increase(1), { metadata: first.value });
  const [b] = await collect(eventLog.eventsById("counter", "b", 1));
  assert.deepEqual(b!.metadata, { correlationId: "saga-1", causationId: "a:c1" });
  await registry.close();
});

test("bad metadata fails the command before it runs, naming what is wrong", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const cases: [unknown, RegExp][] = [
    [{ commandId: "" }, /commandId.*0 characters/],
    [{ correlationId: "a\nb" }, /correlationId.*control characters/],
    [{ headers: { "no spaces": "x" } }, /header name "no spaces"/],
    [{ headers: { a: 1 } }, /header "a" 1: expected a string/],
    [{ userId: "u" }, /unknown key "userId"/],
    ["text", /expected an object/],
  ];
  for (const [metadata, pattern] of cases) {
    await assert.rejects(
      ref.handleCommand(increase(1), { metadata } as never),
      (error: Error) => {
        assert.match(error.message, pattern);
        return error instanceof TypeError || error instanceof RangeError;
      },
    );
  }
  await assert.rejects(
    ref.handleCommand(increase(1), { colour: "red" } as never),
    /Unknown handleCommand option "colour"/,
  );
  assert.equal(await eventLog.lastSeqNo("counter", "a"), null);
  // The entity goes on.
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 1 });
  await ref.stop();
});

test("metadata given to a queued command stays with it", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  await Promise.all(
    Array.from(
      { length: 5 },
      (_, i) => ref.handleCommand(emitOne(i), { metadata: { correlationId: `c${i}` } }),
    ),
  );
  const events = await collect(eventLog.eventsById("counter", "a", 1));
  assert.deepEqual(events.map((e) => e.metadata.correlationId), ["c0", "c1", "c2", "c3", "c4"]);
  await ref.stop();
});

function emitOne(by: number): Command<number, CounterEvent, undefined, never> {
  return { handleCommand: () => emit({ type: "increased", by }) };
}

test("a log that fails is not reached by bad metadata", async () => {
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  const error = await ref.handleCommand(increase(1), {
    metadata: { headers: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`h${i}`, ""])) },
  }).catch((e) => e);
  assert.ok(!isHandleCommandError(error));
  assert.match(String(error), /17 headers, at most 16/);
  await ref.stop();
});
