// The projectionBatch hook over the memory stores: when it is called (before the handler, its
// end after the offset commit), what a failed batch reports, that a hook that throws stops no
// projection, and a bad instrumentation option.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type EventLog, type Instrumentation, jsonBinarize, MemoryEventLog } from "../mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { MemoryOffsetStore, Projection } from "../projection/mod.ts";

const binarize = jsonBinarize<number, number>();

async function write(log: MemoryEventLog, typeName: string, values: number[]): Promise<void> {
  for (const [i, value] of values.entries()) {
    await log.persist(typeName, `e${i}`, null, [binarize.eventToBytes(value)]);
  }
}

test("projectionBatch is called before the handler with the batch's events, and ended after its offset is stored", async () => {
  const eventLog = new MemoryEventLog();
  const typeName = uniqueTypeName("p");
  await write(eventLog, typeName, [1, 2, 3, 4, 5]);
  const calls: string[] = [];
  const instrumentation: Instrumentation = {
    projectionBatch: (name, events) => {
      calls.push(`batch ${name} ${events.map((event) => event.position).join(",")}`);
      return {
        ended: (error) => {
          const offset = projection.state().offset;
          calls.push(`ended ${error === undefined ? "ok" : "error"} at offset ${offset}`);
        },
      };
    },
  };
  const projection = new Projection("sums", {
    typeName,
    eventLog,
    binarize,
    offsetStore: new MemoryOffsetStore(),
    batchSize: 3,
    batchMs: 5,
    handleBatch: (events) => void calls.push(`handle ${events.map((e) => e.event).join(",")}`),
    instrumentation,
  });
  void projection.run();
  await projection.whenCaughtUp();
  await projection.stop();
  assert.deepEqual(calls, [
    "batch sums 1,2,3",
    "handle 1,2,3",
    "ended ok at offset 3",
    "batch sums 4,5",
    "handle 4,5",
    "ended ok at offset 5",
  ]);
});

test("a failed batch ends with its error, then each event goes alone; a hook that throws stops nothing", async () => {
  const eventLog = new MemoryEventLog();
  const typeName = uniqueTypeName("p");
  await write(eventLog, typeName, [1, 2, 3]);
  const ended: { positions: number[]; error: unknown }[] = [];
  const handled: number[] = [];
  const projection = new Projection("skipper", {
    typeName,
    eventLog,
    binarize,
    offsetStore: new MemoryOffsetStore(),
    batchSize: 3,
    batchMs: 5,
    errorStrategy: { type: "skip" },
    onError: () => {},
    handleEvent: (envelope) => {
      if (envelope.event === 2) throw new Error("two");
      handled.push(envelope.event);
    },
    instrumentation: {
      projectionBatch: (_name, events) => ({
        ended: (error) => {
          ended.push({ positions: events.map((event) => event.position), error });
          throw new Error("hook failed");
        },
      }),
    },
  });
  void projection.run();
  await projection.whenCaughtUp();
  await projection.stop();
  assert.deepEqual(handled, [1, 1, 3]);
  assert.deepEqual(ended.map(({ positions }) => positions), [[1, 2, 3], [1], [2], [3]]);
  assert.deepEqual(ended.map(({ error }) => (error as Error | undefined)?.message), [
    "two",
    undefined,
    "two",
    undefined,
  ]);
});

test("Projection refuses an instrumentation that is not an object of hook functions", () => {
  const options = {
    typeName: "t",
    eventLog: new MemoryEventLog(),
    binarize,
    offsetStore: new MemoryOffsetStore(),
    handleEvent: () => {},
  };
  assert.throws(
    () => new Projection("p", { ...options, instrumentation: 5 as never }),
    /Invalid Projection option instrumentation 5: expected an Instrumentation/,
  );
  assert.throws(
    () => new Projection("p", { ...options, instrumentation: { projectionBatch: "x" } as never }),
    /Invalid Projection option instrumentation: its projectionBatch is "x", expected a function/,
  );
});

test("after a committed batch the projection tells its observer how many events follow, asking the log at most once a second", async () => {
  const eventLog = new MemoryEventLog();
  const typeName = uniqueTypeName("p");
  await write(eventLog, typeName, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const behind: number[] = [];
  let asked = 0;
  const counting: EventLog = {
    persist: (...args) => eventLog.persist(...args),
    lastSeqNo: (...args) => eventLog.lastSeqNo(...args),
    eventsById: (...args) => eventLog.eventsById(...args),
    eventsByType: (...args) => eventLog.eventsByType(...args),
    countAfter: (t, position) => {
      asked++;
      return eventLog.countAfter(t, position);
    },
  };
  const projection = new Projection("behind", {
    typeName,
    eventLog: counting,
    binarize,
    offsetStore: new MemoryOffsetStore(),
    batchSize: 3,
    batchMs: 5,
    handleBatch: () => {},
    instrumentation: {
      projectionBatch: () => ({ ended: () => {}, behind: (events) => void behind.push(events) }),
    },
  });
  void projection.run();
  await projection.whenCaughtUp();
  await projection.stop();
  // The first batch (positions 1 to 3) leaves 7; the next batches come within the second.
  assert.equal(behind[0], 7);
  assert.equal(asked, behind.length);
  assert.ok(asked <= 4, `asked ${asked} times`);
  for (const count of behind) assert.ok([7, 4, 1, 0].includes(count), `behind ${count}`);
});
