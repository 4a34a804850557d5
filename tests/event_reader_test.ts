import { test } from "node:test";
import assert from "node:assert/strict";
import { EventReader, isDecodeError, jsonBinarize, MemoryEventLog, spawn } from "../mod.ts";
import { collect, take } from "../testing/mod.ts";
import { counter, type CounterEvent, increase } from "./_counter.ts";

const binarize = jsonBinarize<CounterEvent, number>();

test("EventReader decodes eventsById and eventsByType with their ids, seqNos and positions", async () => {
  const eventLog = new MemoryEventLog();
  const a = await spawn(counter, "a", { eventLog, binarize });
  const b = await spawn(counter, "b", { eventLog, binarize });
  await a.handleCommand(increase(1));
  await b.handleCommand(increase(2));
  await a.handleCommand(increase(3));
  const reader = new EventReader(counter, { eventLog, binarize });
  const byId = await collect(reader.eventsById("a"));
  assert.deepEqual(byId.map(({ id, seqNo, position, event }) => ({ id, seqNo, position, event })), [
    { id: "a", seqNo: 1, position: 1, event: { type: "increased", by: 1 } },
    { id: "a", seqNo: 2, position: 3, event: { type: "increased", by: 3 } },
  ]);
  const byType = await collect(reader.eventsByType(2));
  assert.deepEqual(byType.map((e) => [e.id, e.seqNo, e.position, e.event.by]), [
    ["b", 1, 2, 2],
    ["a", 2, 3, 3],
  ]);
  await Promise.all([a.stop(), b.stop()]);
});

test("a live EventReader sees events written later", async () => {
  const eventLog = new MemoryEventLog();
  const reader = new EventReader<CounterEvent>("counter", { eventLog, binarize });
  const seen = take(reader.eventsByType(1, { live: true }), 2);
  const ref = await spawn(counter, "a", { eventLog, binarize });
  await ref.handleCommand(increase(1));
  await ref.handleCommand(increase(2));
  assert.deepEqual((await seen).map((e) => e.event.by), [1, 2]);
  await ref.stop();
});

test("an undecodable event errors the stream with a DecodeError naming typeName, id and seqNo", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("counter", "a", null, [
    binarize.eventToBytes({ type: "increased", by: 1 }),
    new Uint8Array([0x7b]),
  ]);
  const reader = new EventReader(counter, { eventLog, binarize });
  const error = await collect(reader.eventsById("a")).catch((e) => e);
  assert.ok(isDecodeError(error));
  assert.equal(error.typeName, "counter");
  assert.equal(error.id, "a");
  assert.equal(error.seqNo, 2);
});

test("EventReader refuses an invalid type name", () => {
  assert.throws(
    () => new EventReader("no spaces", { eventLog: new MemoryEventLog(), binarize }),
    /typeName/,
  );
});

test("EventReader refuses unknown option keys and missing or bad options", () => {
  const eventLog = new MemoryEventLog();
  const binarize = jsonBinarize<CounterEvent, number>();
  assert.throws(
    () => new EventReader("counter", { eventLog, binarize, live: true } as never),
    /Unknown EventReader option "live": known options are eventLog, binarize/,
  );
  assert.throws(
    () => new EventReader("counter", { eventLog } as never),
    /Missing EventReader option binarize/,
  );
  assert.throws(
    () => new EventReader("counter", { eventLog, binarize: {} } as never),
    /EventReader option binarize \(Object\): expected a Binarize with eventFromBytes/,
  );
  assert.throws(
    () => new EventReader("counter", { eventLog: {}, binarize } as never),
    /EventReader option eventLog \(Object\): expected an EventLog/,
  );
});
