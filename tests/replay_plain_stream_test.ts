// Recovery from an EventLog whose reads are plain ReadableStreams (a log written outside this
// package): every event is replayed, and a failing replay still cancels the stream.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type EventLog, jsonBinarize, MemoryEventLog, type PersistedEvent, spawn } from "../mod.ts";
import { counter, type CounterEvent, get } from "./_counter.ts";

const binarize = jsonBinarize<CounterEvent, number>();

// MemoryEventLog with its reads handed out one event at a time through a plain stream.
function plainStreams(log: MemoryEventLog, cancelled: unknown[]): EventLog {
  return {
    persist: (...args) => log.persist(...args),
    lastSeqNo: (...args) => log.lastSeqNo(...args),
    eventsByType: (...args) => log.eventsByType(...args),
    eventsById(...args) {
      let reader: ReadableStreamDefaultReader<PersistedEvent> | undefined;
      return new ReadableStream<PersistedEvent>({
        async pull(controller) {
          reader ??= log.eventsById(...args).getReader();
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel(reason) {
          cancelled.push(reason);
          return reader?.cancel(reason);
        },
      }, { highWaterMark: 0 });
    },
  };
}

async function logWith(count: number): Promise<MemoryEventLog> {
  const log = new MemoryEventLog();
  const events = Array.from(
    { length: count },
    () => binarize.eventToBytes({ type: "increased", by: 1 }),
  );
  await log.persist("counter", "a", null, events);
  return log;
}

test("an entity recovers every event from a log of plain streams", async () => {
  const cancelled: unknown[] = [];
  const eventLog = plainStreams(await logWith(1500), cancelled);
  for (let round = 0; round < 3; round++) {
    const ref = await spawn(counter, "a", { eventLog, binarize });
    assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 1500 });
    await ref.stop();
  }
  assert.deepEqual(cancelled, [], "a stream read to its end is not cancelled");
});

test("a replay that fails cancels the plain stream with the failure", async () => {
  const cancelled: unknown[] = [];
  const eventLog = plainStreams(await logWith(10), cancelled);
  const broken = {
    ...counter,
    handleEvent: (state: number) => {
      if (state === 4) throw new Error("bad event");
      return state + 1;
    },
  };
  await assert.rejects(spawn(broken, "a", { eventLog, binarize }), /seqNo 5/);
  assert.equal(cancelled.length, 1);
  assert.match(String((cancelled[0] as Error).message), /seqNo 5/);
});
