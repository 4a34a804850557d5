// The core's instrumentation hooks without OpenTelemetry: the order of the calls, `ended`
// exactly once on every path, hooks that throw, and metadata left alone without them.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  emit,
  type EventMetadata,
  type Instrumentation,
  isSpawnError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  reply,
  spawn,
} from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { failBeforeWrite, WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();

// Records every hook call as a line: "<hook> <args…>".
function recorder(): { calls: string[]; instrumentation: Instrumentation } {
  const calls: string[] = [];
  const instrumentation: Instrumentation = {
    command: (typeName, id, metadata, waiting) => {
      const name = metadata.commandId ?? "-";
      calls.push(`command ${typeName}/${id} ${name} waiting=${waiting}`);
      return {
        started: () => calls.push(`started ${name}`),
        persisting: (events, given) => {
          calls.push(`persisting ${name} ${events}`);
          return given;
        },
        persisted: (seqNo) => calls.push(`persisted ${name} ${seqNo}`),
        ended: (outcome, error) =>
          calls.push(`ended ${name} ${outcome}${error === undefined ? "" : " (error)"}`),
      };
    },
    spawn: (typeName, id) => {
      calls.push(`spawn ${typeName}/${id}`);
      return {
        snapshotLoaded: (seqNo) => calls.push(`snapshotLoaded ${seqNo}`),
        ended: (events, error) =>
          calls.push(`spawn ended ${events}${error === undefined ? "" : " (error)"}`),
      };
    },
  };
  return { calls, instrumentation };
}

const withId = (commandId: string) => ({ metadata: { commandId } });

test("a spawn reports the snapshot it loaded and how many events it replayed", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const plain = await spawn(counter, "a", { eventLog, binarize, snapshotStore, snapshotAfter: 3 });
  for (let i = 0; i < 5; i++) await plain.handleCommand(increase(1));
  await plain.stop();
  const { calls, instrumentation } = recorder();
  const ref = await spawn(counter, "a", { eventLog, binarize, snapshotStore, instrumentation });
  await ref.stop();
  assert.deepEqual(calls, ["spawn counter/a", "snapshotLoaded 3", "spawn ended 2"]);
});

test("a spawn that fails reports the failure once", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("counter", "a", null, [new TextEncoder().encode("not json")]);
  const { calls, instrumentation } = recorder();
  await assert.rejects(spawn(counter, "a", { eventLog, binarize, instrumentation }), isSpawnError);
  assert.deepEqual(calls, ["spawn counter/a", "spawn ended 0 (error)"]);
});

test("every command path calls ended exactly once, after started and persisting", async () => {
  const eventLog = new WrappedEventLog();
  const { calls, instrumentation } = recorder();
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation,
    commandBufferSize: 1,
    deduplicationWindow: 16,
  });
  calls.length = 0;
  assert.deepEqual(await ref.handleCommand(increase(2), withId("emit")), { ok: true, value: 2 });
  assert.deepEqual(await ref.handleCommand(get, withId("reply")), { ok: true, value: 2 });
  assert.deepEqual(
    await ref.handleCommand(increase(2_000_000), withId("reject")),
    { ok: false, error: "Overflow" },
  );
  const duplicate = await ref.handleCommand(increase(2), withId("emit"));
  assert.equal("duplicate" in duplicate && duplicate.duplicate, true);
  const thrower = {
    handleCommand: (): never => {
      throw new Error("boom");
    },
  };
  await assert.rejects(ref.handleCommand(thrower, withId("threw")), {
    reason: "command-handler-threw",
  });
  eventLog.nextPersist = failBeforeWrite;
  await assert.rejects(ref.handleCommand(increase(1), withId("failed")), {
    reason: "persist-failed",
  });
  assert.deepEqual(calls, [
    "command counter/a emit waiting=0",
    "started emit",
    "persisting emit 1",
    "persisted emit 1",
    "ended emit emit",
    "command counter/a reply waiting=0",
    "started reply",
    "ended reply reply",
    "command counter/a reject waiting=0",
    "started reject",
    "ended reject reject",
    "command counter/a emit waiting=0",
    "started emit",
    "ended emit duplicate",
    "command counter/a threw waiting=0",
    "started threw",
    "ended threw command-handler-threw (error)",
    "command counter/a failed waiting=0",
    "started failed",
    "persisting failed 1",
    "ended failed persist-failed (error)",
  ]);

  await ref.stop();
});

test("a command refused, withdrawn or sent to a stopped entity ends once, without starting", async () => {
  const eventLog = new WrappedEventLog();
  const { calls, instrumentation } = recorder();
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation,
    commandBufferSize: 1,
  });
  // One running, one waiting, one refused, one withdrawn by its signal while it waits.
  let release!: () => void;
  eventLog.nextPersist = (write) => new Promise<void>((r) => release = r).then(write);
  const running = ref.handleCommand(increase(1), withId("running"));
  const abort = new AbortController();
  const withdrawn = ref.handleCommand(increase(1), {
    metadata: { commandId: "withdrawn" },
    signal: abort.signal,
  });
  await assert.rejects(ref.handleCommand(get, withId("refused")), { reason: "mailbox-full" });
  abort.abort();
  await assert.rejects(withdrawn, { reason: "aborted" });
  const queued = ref.handleCommand(get, withId("queued"));
  release();
  assert.deepEqual(await running, { ok: true, value: 1 });
  assert.deepEqual(await queued, { ok: true, value: 1 });
  await ref.stop();
  await assert.rejects(ref.handleCommand(get, withId("stopped")), { reason: "stopped" });
  const of = (name: string) =>
    calls.filter((call) => call.split(" ")[1] === name || call.includes(` ${name} waiting`));
  assert.deepEqual(of("running"), [
    "command counter/a running waiting=0",
    "started running",
    "persisting running 1",
    "persisted running 1",
    "ended running emit",
  ]);
  assert.deepEqual(of("withdrawn"), [
    "command counter/a withdrawn waiting=0",
    "ended withdrawn aborted (error)",
  ]);
  assert.deepEqual(of("refused"), [
    "command counter/a refused waiting=1",
    "ended refused mailbox-full (error)",
  ]);
  assert.deepEqual(of("queued"), [
    "command counter/a queued waiting=0",
    "started queued",
    "ended queued reply",
  ]);
  assert.deepEqual(of("stopped"), [
    "command counter/a stopped waiting=0",
    "ended stopped stopped (error)",
  ]);
  assert.equal(calls.length, 5 + 2 + 2 + 3 + 2 + 2, "and nothing else (the spawn's two)");
});

test("hooks that throw reach onError and the commands go on", async () => {
  const errors: Error[] = [];
  const eventLog = new MemoryEventLog();
  const instrumentation: Instrumentation = {
    command: () => ({
      started: () => {
        throw new Error("started broke");
      },
      // Changing the commandId would break deduplication: refused, the command's metadata is
      // stored instead.
      persisting: (_events, metadata) => ({ ...metadata, commandId: "other" }),
      persisted: () => {
        throw new Error("persisted broke");
      },
      ended: () => {
        throw new Error("ended broke");
      },
    }),
    spawn: () => {
      throw new Error("spawn broke");
    },
  };
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation,
    onError: (error) => errors.push(error),
  });
  assert.deepEqual(
    await ref.handleCommand(increase(1), { metadata: { commandId: "c-1" } }),
    { ok: true, value: 1 },
  );
  await ref.stop();
  assert.deepEqual(errors.map((e) => e.message), [
    "Instrumentation hook spawn threw; the work went on",
    "Instrumentation hook started threw; the work went on",
    "Instrumentation hook persisting threw; the work went on",
    "Instrumentation hook persisted threw; the work went on",
    "Instrumentation hook ended threw; the work went on",
  ]);
  assert.match(String((errors[2]!.cause as Error).message), /commandId "other" replaces "c-1"/);
  for await (const event of eventLog.eventsById("counter", "a", 1)) {
    assert.deepEqual(event.metadata, { commandId: "c-1" });
  }
});

test("the metadata an observer returns is stored, checked like a command's own", async () => {
  const eventLog = new MemoryEventLog();
  const errors: Error[] = [];
  let tooMany = false;
  const instrumentation: Instrumentation = {
    command: () => ({
      started() {},
      persisting: (_events, metadata): EventMetadata => ({
        ...metadata,
        headers: tooMany
          ? Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`h${i}`, "x"]))
          : { ...metadata.headers, added: "yes" },
      }),
      persisted() {},
      ended() {},
    }),
  };
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    instrumentation,
    onError: (error) => errors.push(error),
  });
  const metadata = { commandId: "c-1", headers: { user: "ada" } };
  await ref.handleCommand({ handleCommand: () => emit({ type: "increased", by: 1 }) }, {
    metadata,
  });
  tooMany = true;
  const second = { ...metadata, commandId: "c-2" };
  await ref.handleCommand(increase(1), { metadata: second });
  await ref.stop();
  const stored: EventMetadata[] = [];
  for await (const event of eventLog.eventsById("counter", "a", 1)) stored.push(event.metadata);
  assert.deepEqual(stored, [
    { commandId: "c-1", headers: { added: "yes", user: "ada" } },
    second,
  ]);
  assert.equal(errors.length, 1);
  assert.match(String((errors[0]!.cause as Error).message), /17 headers, at most 16/);
});

test("without instrumentation the metadata stored is exactly the command's", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const metadata = { commandId: "c-1", correlationId: "order-7", headers: { user: "ada" } };
  await ref.handleCommand(increase(1), { metadata });
  await ref.handleCommand({ handleCommand: () => reply(0) });
  await ref.handleCommand(increase(1));
  await ref.stop();
  const stored: EventMetadata[] = [];
  for await (const event of eventLog.eventsById("counter", "a", 1)) stored.push(event.metadata);
  assert.deepEqual(stored, [metadata, {}]);
});

test("an instrumentation whose hooks are not functions is refused before anything runs", async () => {
  const eventLog = new WrappedEventLog();
  await assert.rejects(
    spawn(counter, "a", {
      eventLog,
      binarize,
      instrumentation: { command: 5 } as unknown as Instrumentation,
    }),
    (error: Error) => {
      assert.ok(isSpawnError(error));
      assert.match(
        error.message,
        /Invalid spawn option instrumentation: its command is 5, expected a function/,
      );
      return true;
    },
  );
  await assert.rejects(
    spawn(counter, "a", {
      eventLog,
      binarize,
      instrumentation: "yes" as unknown as Instrumentation,
    }),
    /Invalid spawn option instrumentation "yes": expected an Instrumentation/,
  );
  assert.equal(eventLog.calls.eventsById, 0);
});
