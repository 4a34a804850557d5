import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Binarize,
  emit,
  emitAndReply,
  type EventSourced,
  HandleCommandError,
  isConcurrencyError,
  isDecodeError,
  isHandleCommandError,
  isSpawnError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  type ReplyEffect,
  spawn,
  type SpawnOptions,
} from "../mod.ts";
import { collect } from "../testing/mod.ts";
import { counter, type CounterEvent, decrease, get, increase, MAX } from "./_counter.ts";
import { delayed, failAfterWrite, failBeforeWrite, WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();

async function storedEvents(log: MemoryEventLog, id: string, typeName = "counter") {
  const events = await collect(log.eventsById(typeName, id, 1));
  return events.map((e) => binarize.eventFromBytes(e.bytes));
}

test("a command that emits persists the event, applies it and replies from the new state", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  assert.equal(ref.id, "a");
  assert.deepEqual(await ref.handleCommand(increase(3)), { ok: true, value: 3 });
  assert.deepEqual(await ref.handleCommand(decrease(1)), { ok: true, value: 2 });
  assert.deepEqual(await storedEvents(eventLog, "a"), [
    { type: "increased", by: 3 },
    { type: "decreased", by: 1 },
  ]);
  await ref.stop();
});

test("a rejected command persists nothing and returns the business error", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  assert.deepEqual(await ref.handleCommand(decrease(1)), { ok: false, error: "Underflow" });
  assert.deepEqual(await ref.handleCommand(increase(MAX + 1)), { ok: false, error: "Overflow" });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), null);
  await ref.stop();
});

test("reply answers from the state without persisting", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  await ref.handleCommand(increase(5));
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 5 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 1);
  await ref.stop();
});

test("several events of one command are persisted together and the reply sees all of them", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const transfer = {
    handleCommand: () =>
      emitAndReply<number, CounterEvent, number>(
        [{ type: "increased", by: 10 }, { type: "decreased", by: 4 }, { type: "increased", by: 1 }],
        (state) => state * 100,
      ),
  };
  assert.deepEqual(await ref.handleCommand(transfer), { ok: true, value: 700 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 3);
  const noReply = { handleCommand: () => emit<CounterEvent>({ type: "increased", by: 1 }) };
  assert.deepEqual(await ref.handleCommand(noReply), { ok: true, value: undefined });
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 8 });
  await ref.stop();
});

test("an emit of zero events writes nothing and replies from the current state", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const nothing = {
    handleCommand: () => emitAndReply<number, CounterEvent, number>([], (s) => s + 1),
  };
  assert.deepEqual(await ref.handleCommand(nothing), { ok: true, value: 1 });
  assert.equal(eventLog.calls.persist, 0);
  await ref.stop();
});

test("a respawned entity recovers its state by replaying the log", async () => {
  const eventLog = new MemoryEventLog();
  const first = await spawn(counter, "a", { eventLog, binarize });
  for (let i = 1; i <= 10; i++) await first.handleCommand(increase(i));
  await first.stop();
  const second = await spawn(counter, "a", { eventLog, binarize });
  assert.deepEqual(await second.handleCommand(get), { ok: true, value: 55 });
  assert.deepEqual(await second.handleCommand(increase(1)), { ok: true, value: 56 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 11);
  await second.stop();
});

test("snapshots follow the seqNo across restarts and recovery replays only the events after one", async () => {
  const eventLog = new WrappedEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const options = { eventLog, binarize, snapshotStore, snapshotAfter: 3 };
  const first = await spawn(counter, "a", options);
  await first.handleCommand(increase(1));
  await first.handleCommand(increase(1));
  await first.stop();
  assert.equal(await snapshotStore.load("counter", "a"), null);
  const second = await spawn(counter, "a", options);
  await second.handleCommand(increase(1)); // seqNo 3: a snapshot is due
  await second.handleCommand(increase(1));
  await second.stop(); // waits for the snapshot save
  const snapshot = await snapshotStore.load("counter", "a");
  assert.equal(snapshot?.seqNo, 3);
  assert.equal(binarize.stateFromBytes(snapshot!.bytes), 3);

  // Prove recovery starts from the snapshot: corrupt events 1..3 in a copy of the log.
  const copy = new MemoryEventLog();
  await copy.persist("counter", "a", null, [
    new TextEncoder().encode("not json"),
    new TextEncoder().encode("not json"),
    new TextEncoder().encode("not json"),
    binarize.eventToBytes({ type: "increased", by: 1 }),
  ]);
  const third = await spawn(counter, "a", { ...options, eventLog: copy });
  assert.deepEqual(await third.handleCommand(get), { ok: true, value: 4 });
  await third.stop();
});

test("a multi-event command that crosses a snapshot boundary saves the snapshot at its last seqNo", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const ref = await spawn(counter, "a", { eventLog, binarize, snapshotStore, snapshotAfter: 4 });
  const three = {
    handleCommand: () => emit<CounterEvent>([1, 2, 3].map((by) => ({ type: "increased", by }))),
  };
  await ref.handleCommand(three);
  await ref.handleCommand(three); // seqNo 3 -> 6 crosses 4
  await ref.stop();
  const snapshot = await snapshotStore.load("counter", "a");
  assert.equal(snapshot?.seqNo, 6);
  assert.equal(binarize.stateFromBytes(snapshot!.bytes), 12);
});

test("a failed snapshot save is reported and the entity goes on", async () => {
  const eventLog = new MemoryEventLog();
  const reported: Error[] = [];
  const snapshotStore = {
    save: () => Promise.reject(new Error("disk full")),
    load: () => Promise.resolve(null),
  };
  const ref = await spawn(counter, "a", {
    eventLog,
    binarize,
    snapshotStore,
    snapshotAfter: 1,
    onError: (error) => reported.push(error),
  });
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 1 });
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 2 });
  await ref.stop();
  assert.ok(reported.length >= 1);
  assert.match(reported[0]!.message, /snapshot of "counter\/a"/);
  assert.equal((reported[0]!.cause as Error).message, "disk full");
});

test("a snapshot newer than the log is a SpawnError", async () => {
  const snapshotStore = new MemorySnapshotStore();
  await snapshotStore.save("counter", "a", 5, binarize.stateToBytes(5));
  const error = await spawn(counter, "a", {
    eventLog: new MemoryEventLog(),
    binarize,
    snapshotStore,
  })
    .catch((e) => e);
  assert.ok(isSpawnError(error));
  assert.match(error.message, /snapshot is at seqNo 5 but the log ends at seqNo 0/);
});

test("spawn replays up to the last seqNo even when it moves on after the replay", async () => {
  // A log whose stream does not tell its head: spawn reads the last seqNo after the replay;
  // here another writer appends in between, so spawn reads on from where the replay ended.
  const eventLog = new WrappedEventLog();
  const one = binarize.eventToBytes({ type: "increased", by: 1 });
  await eventLog.inner.persist("counter", "a", null, [one, one]);
  const eventsById = eventLog.eventsById.bind(eventLog);
  eventLog.eventsById = (...args) => eventsById(...args).pipeThrough(new TransformStream());
  const lastSeqNo = eventLog.lastSeqNo.bind(eventLog);
  eventLog.lastSeqNo = async (typeName, id, options) => {
    await eventLog.inner.persist("counter", "a", 2, [one]);
    return await lastSeqNo(typeName, id, options);
  };
  const ref = await spawn(counter, "a", { eventLog, binarize });
  assert.equal(eventLog.calls.eventsById, 2, "a second read went on from where the first ended");
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 3 });
  await ref.stop();
});

test("spawn on a log of this package takes the last seqNo from its read, with no extra call", async () => {
  const eventLog = new WrappedEventLog();
  const one = binarize.eventToBytes({ type: "increased", by: 1 });
  await eventLog.inner.persist("counter", "a", null, [one, one, one]);
  const ref = await spawn(counter, "a", { eventLog, binarize });
  assert.deepEqual(eventLog.calls, { persist: 0, lastSeqNo: 0, eventsById: 1, eventsByType: 0 });
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 3 });
  await ref.stop();
});

test("a log whose events end before its last seqNo is a SpawnError", async () => {
  const eventLog = new WrappedEventLog();
  await eventLog.inner.persist("counter", "a", null, [
    binarize.eventToBytes({ type: "increased", by: 1 }),
  ]);
  const eventsById = eventLog.eventsById.bind(eventLog);
  eventLog.eventsById = (...args) => eventsById(...args).pipeThrough(new TransformStream());
  eventLog.lastSeqNo = () => Promise.resolve(4);
  const error = await spawn(counter, "a", { eventLog, binarize }).catch((e) => e);
  assert.ok(isSpawnError(error), String(error));
  assert.match(error.message, /log ended at seqNo 1 while its last seqNo is 4/);
});

test("an event that cannot be decoded is a SpawnError naming typeName, id and seqNo", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("counter", "a", null, [
    binarize.eventToBytes({ type: "increased", by: 1 }),
    new Uint8Array([0xff, 0xfe]),
  ]);
  const error = await spawn(counter, "a", { eventLog, binarize }).catch((e) => e);
  assert.ok(isSpawnError(error));
  assert.match(error.message, /"counter\/a".*seqNo 2/);
  assert.ok(isDecodeError(error.cause));
  assert.equal(error.cause.seqNo, 2);
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 2, "the log is unchanged");
});

test("an event handler that throws during replay is a SpawnError naming the seqNo", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("counter", "a", null, [
    binarize.eventToBytes({ type: "increased", by: 1 }),
    binarize.eventToBytes({ type: "increased", by: -1 }),
  ]);
  const picky: EventSourced<number, CounterEvent> = {
    ...counter,
    handleEvent: (state, event) => {
      if (event.by < 0) throw new Error("negative");
      return counter.handleEvent(state, event);
    },
  };
  const error = await spawn(picky, "a", { eventLog, binarize }).catch((e) => e);
  assert.ok(isSpawnError(error));
  assert.match(error.message, /"counter\/a".*seqNo 2/);
});

test("bad spawn options are refused with a SpawnError that names them, before any I/O", async () => {
  const eventLog = new WrappedEventLog();
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      "typeName",
      () => spawn({ ...counter, typeName: "a b" }, "a", { eventLog, binarize }),
      /typeName "a b"/,
    ],
    [
      "empty typeName",
      () => spawn({ ...counter, typeName: "" }, "a", { eventLog, binarize }),
      /typeName ""/,
    ],
    [
      "long typeName",
      () => spawn({ ...counter, typeName: "x".repeat(65) }, "a", { eventLog, binarize }),
      /typeName/,
    ],
    ["empty id", () => spawn(counter, "", { eventLog, binarize }), /id ""/],
    [
      "long id",
      () => spawn(counter, "x".repeat(257), { eventLog, binarize }),
      /id .*257 characters/,
    ],
    ["NUL id", () => spawn(counter, "a\u0000b", { eventLog, binarize }), /NUL/],
    [
      "snapshotAfter 0",
      () =>
        spawn(counter, "a", {
          eventLog,
          binarize,
          snapshotStore: new MemorySnapshotStore(),
          snapshotAfter: 0,
        }),
      /snapshotAfter 0/,
    ],
    [
      "snapshotAfter 1.5",
      () =>
        spawn(counter, "a", {
          eventLog,
          binarize,
          snapshotStore: new MemorySnapshotStore(),
          snapshotAfter: 1.5,
        }),
      /snapshotAfter 1.5/,
    ],
    [
      "snapshotAfter without store",
      () => spawn(counter, "a", { eventLog, binarize, snapshotAfter: 10 }),
      /snapshotStore/,
    ],
    [
      "commandBufferSize -1",
      () => spawn(counter, "a", { eventLog, binarize, commandBufferSize: -1 }),
      /commandBufferSize -1/,
    ],
    [
      "commandBufferSize string",
      () =>
        spawn(counter, "a", { eventLog, binarize, commandBufferSize: "8" as unknown as number }),
      /commandBufferSize "8"/,
    ],
    [
      "binarize",
      () => spawn(counter, "a", { eventLog, binarize: {} as Binarize<CounterEvent, number> }),
      /spawn option binarize \(Object\): expected a Binarize/,
    ],
    [
      "missing binarize",
      () => spawn(counter, "a", { eventLog } as unknown as SpawnOptions<number, CounterEvent>),
      /Missing spawn option binarize/,
    ],
    [
      "unknown key",
      () =>
        spawn(counter, "a", { eventLog, binarize, comandBufferSize: 8 } as SpawnOptions<
          number,
          CounterEvent
        >),
      /Unknown spawn option "comandBufferSize": known options are eventLog, binarize/,
    ],
    [
      "onError not a function",
      () => spawn(counter, "a", { eventLog, binarize, onError: 1 as unknown as () => void }),
      /spawn option onError 1: expected a function/,
    ],
    [
      "signal not a signal",
      () => spawn(counter, "a", { eventLog, binarize, signal: {} as AbortSignal }),
      /spawn option signal \(Object\): expected an AbortSignal/,
    ],
    [
      "eventLog",
      () => spawn(counter, "a", { eventLog: null as unknown as MemoryEventLog, binarize }),
      /eventLog/,
    ],
  ];
  for (const [what, attempt, pattern] of cases) {
    const error = await attempt().catch((e) => e);
    assert.ok(isSpawnError(error), `${what}: expected SpawnError, got ${error}`);
    assert.match(error.message, pattern, what);
  }
  assert.deepEqual(eventLog.calls, { persist: 0, lastSeqNo: 0, eventsById: 0, eventsByType: 0 });
});

test("a Binarize that throws on encode fails that command and writes nothing", async () => {
  const eventLog = new MemoryEventLog();
  const throwing: Binarize<CounterEvent, number> = {
    ...binarize,
    eventToBytes: (event) => {
      if (event.by === 13) throw new Error("unlucky");
      return binarize.eventToBytes(event);
    },
  };
  const ref = await spawn(counter, "a", { eventLog, binarize: throwing });
  const error = await ref.handleCommand(increase(13)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "encode-failed");
  assert.equal((error.cause as Error).message, "unlucky");
  assert.equal(await eventLog.lastSeqNo("counter", "a"), null);
  assert.deepEqual(await ref.handleCommand(increase(2)), { ok: true, value: 2 });
  await ref.stop();
});

test("a command handler that throws fails only that command", async () => {
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  const boom = {
    handleCommand: (): never => {
      throw new RangeError("boom");
    },
  };
  const pending = [
    ref.handleCommand(increase(1)),
    ref.handleCommand(boom),
    ref.handleCommand(increase(1)),
  ];
  const [first, second, third] = await Promise.allSettled(pending);
  assert.deepEqual(first, { status: "fulfilled", value: { ok: true, value: 1 } });
  assert.equal(second?.status, "rejected");
  const error = (second as PromiseRejectedResult).reason;
  assert.ok(error instanceof HandleCommandError);
  assert.equal(error.reason, "command-handler-threw");
  assert.ok(error.cause instanceof RangeError);
  assert.deepEqual(third, { status: "fulfilled", value: { ok: true, value: 2 } });
  await ref.stop();
});

test("a failed persist fails the command with its cause and the entity goes on", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  await ref.handleCommand(increase(1));
  eventLog.nextPersist = failBeforeWrite;
  const error = await ref.handleCommand(increase(10)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "persist-failed");
  assert.equal((error.cause as Error).message, "connection reset");
  assert.deepEqual(await ref.handleCommand(increase(2)), { ok: true, value: 3 });
  assert.deepEqual(await storedEvents(eventLog.inner, "a"), [
    { type: "increased", by: 1 },
    { type: "increased", by: 2 },
  ]);
  await ref.stop();
});

test("a write that landed without its ack is picked up by the re-sync, never doubled", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  eventLog.nextPersist = failAfterWrite;
  const error = await ref.handleCommand(increase(5)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 5 });
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 6 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 2);
  await ref.stop();
});

test("a conflict with another writer fails with ConcurrencyError as cause, then the entity re-syncs", async () => {
  const eventLog = new MemoryEventLog();
  const mine = await spawn(counter, "a", { eventLog, binarize });
  const theirs = await spawn(counter, "a", { eventLog, binarize });
  assert.deepEqual(await theirs.handleCommand(increase(7)), { ok: true, value: 7 });
  const error = await mine.handleCommand(increase(1)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "persist-failed");
  assert.ok(isConcurrencyError(error.cause));
  assert.equal(error.cause.expected, null);
  assert.equal(error.cause.actual, 1);
  assert.deepEqual(await mine.handleCommand(increase(1)), { ok: true, value: 8 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 2);
  await Promise.all([mine.stop(), theirs.stop()]);
});

test("commands run one at a time in the order sent, each seeing the state left by the one before", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize, commandBufferSize: 9 });
  const seen: number[] = [];
  const recording = (by: number) => ({
    handleCommand: (id: string, state: number) => {
      seen.push(state);
      return increase(by).handleCommand(id, state, {});
    },
  });
  eventLog.nextPersist = delayed(20);
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => ref.handleCommand(recording(i + 1))),
  );
  assert.deepEqual(results.map((r) => r.ok && r.value), [1, 3, 6, 10, 15, 21, 28, 36, 45, 55]);
  assert.deepEqual(seen, [0, 1, 3, 6, 10, 15, 21, 28, 36, 45]);
  await ref.stop();
});

test("a command aborted while it waits is withdrawn and the others still run", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  eventLog.nextPersist = delayed(30);
  const controller = new AbortController();
  const first = ref.handleCommand(increase(1));
  const second = ref.handleCommand(increase(10), { signal: controller.signal });
  const third = ref.handleCommand(increase(100));
  controller.abort(new Error("user went away"));
  const error = await second.catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "aborted");
  assert.equal((error.cause as Error).message, "user went away");
  assert.deepEqual(await first, { ok: true, value: 1 });
  assert.deepEqual(await third, { ok: true, value: 101 });
  const already = await ref.handleCommand(increase(1), { signal: AbortSignal.abort() }).catch((e) =>
    e
  );
  assert.equal(already.reason, "aborted");
  await ref.stop();
});

test("stop finishes queued commands, then refuses new ones", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  eventLog.nextPersist = delayed(20);
  const queued = [1, 2, 3].map((by) => ref.handleCommand(increase(by)));
  const stopping = ref.stop();
  assert.equal(ref.stop(), stopping, "stop returns the same promise");
  const late = await ref.handleCommand(increase(1)).catch((e) => e);
  assert.ok(isHandleCommandError(late));
  assert.equal(late.reason, "stopped");
  assert.deepEqual((await Promise.all(queued)).map((r) => r.ok && r.value), [1, 3, 6]);
  await stopping;
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 3);
});

test("await using stops the entity", async () => {
  const eventLog = new MemoryEventLog();
  let escaped;
  {
    await using ref = await spawn(counter, "a", { eventLog, binarize });
    await ref.handleCommand(increase(1));
    escaped = ref;
  }
  const error = await escaped.handleCommand(increase(1)).catch((e) => e);
  assert.equal(error.reason, "stopped");
});

test("an aborted spawn signal fails recovery; aborting later stops the entity", async () => {
  const eventLog = new MemoryEventLog();
  const aborted = await spawn(counter, "a", {
    eventLog,
    binarize,
    signal: AbortSignal.abort(new Error("shutting down")),
  }).catch((e) => e);
  assert.ok(isSpawnError(aborted));
  assert.equal((aborted.cause as Error).message, "shutting down");

  const controller = new AbortController();
  const ref = await spawn(counter, "a", { eventLog, binarize, signal: controller.signal });
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 1 });
  controller.abort();
  await ref.stop();
  const error = await ref.handleCommand(increase(1)).catch((e) => e);
  assert.equal(error.reason, "stopped");
});

test("an event handler that throws after a persist fails the command and the entity re-syncs", async () => {
  const eventLog = new MemoryEventLog();
  let failOnce = true;
  const flaky: EventSourced<number, CounterEvent> = {
    ...counter,
    handleEvent: (state, event) => {
      if (event.by === 9 && failOnce) {
        failOnce = false;
        throw new Error("transient");
      }
      return counter.handleEvent(state, event);
    },
  };
  const ref = await spawn(flaky, "a", { eventLog, binarize });
  const error = await ref.handleCommand(increase(9)).catch((e) => e);
  assert.equal(error.reason, "event-handler-threw");
  assert.deepEqual(
    await ref.handleCommand(get),
    { ok: true, value: 9 },
    "the persisted event counts",
  );
  await ref.stop();
});

test("a reply function that throws fails the command after the events were persisted", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const badReply = {
    handleCommand: () =>
      emitAndReply<number, CounterEvent, number>({ type: "increased", by: 1 }, () => {
        throw new Error("bad reply");
      }),
  };
  const error = await ref.handleCommand(badReply).catch((e) => e);
  assert.equal(error.reason, "reply-failed");
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 1 });
  await ref.stop();
});

test("a command handler returning something other than an effect fails clearly", async () => {
  const ref = await spawn(counter, "a", { eventLog: new MemoryEventLog(), binarize });
  const wrong = { handleCommand: () => 42 as unknown as ReplyEffect<number> };
  const error = await ref.handleCommand(wrong).catch((e) => e);
  assert.equal(error.reason, "command-handler-threw");
  assert.match(error.message, /returned number 42 instead of an effect/);
  await ref.stop();
});

test("many commands sent at once within the mailbox all complete in order", async () => {
  const eventLog = new MemoryEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize, commandBufferSize: 1999 });
  const results = await Promise.all(
    Array.from({ length: 2000 }, () => ref.handleCommand(increase(1))),
  );
  assert.deepEqual(
    results.map((r) => r.ok && r.value),
    Array.from({ length: 2000 }, (_, i) => i + 1),
  );
  await ref.stop();
});

test("handleCommand refuses unknown option keys and a signal that is not an AbortSignal", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const typo = { signl: AbortSignal.timeout(1000) } as unknown as { signal?: AbortSignal };
  await assert.rejects(
    ref.handleCommand(increase(1), typo),
    /Unknown handleCommand option "signl": known options are signal/,
  );
  await assert.rejects(
    ref.handleCommand(increase(1), { signal: "soon" as unknown as AbortSignal }),
    /Invalid handleCommand option signal "soon": expected an AbortSignal/,
  );
  assert.equal(eventLog.calls.persist, 0);
  await ref.stop();
});
