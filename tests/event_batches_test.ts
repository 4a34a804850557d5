// The batch reads behind the event logs' streams (src/_event_batches.ts): the core's replay takes
// a fresh stream's batches instead of reading it event by event; every event must still be read
// exactly once, and a stream that was already read must be read as a stream.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryEventLog, type PersistedEvent } from "../mod.ts";
import { takeBatches } from "../src/_event_batches.ts";
import { collect } from "../testing/mod.ts";

const encoder = new TextEncoder();

async function logWith(count: number): Promise<MemoryEventLog> {
  const log = new MemoryEventLog();
  let last: number | null = null;
  for (let written = 0; written < count; written += 500) {
    const events = Array.from(
      { length: Math.min(500, count - written) },
      (_, i) => encoder.encode(String(written + i + 1)),
    );
    last = await log.persist("counter", "a", last, events);
  }
  return log;
}

async function drain(
  batches: NonNullable<ReturnType<typeof takeBatches>>,
): Promise<PersistedEvent[]> {
  const events: PersistedEvent[] = [];
  for (let batch = await batches.next(); batch !== null; batch = await batches.next()) {
    assert.ok(batch.length > 0, "a batch holds at least one event");
    events.push(...batch);
  }
  return events;
}

test("the batches of a fresh stream hold every event once, in order, and lock the stream", async () => {
  const log = await logWith(3000);
  const stream = log.eventsById("counter", "a", 1);
  const batches = takeBatches(stream);
  assert.ok(batches, "a stream of the memory log has batches");
  assert.ok(stream.locked, "the stream is locked once its batches are taken");
  assert.equal(takeBatches(stream), undefined, "batches are taken once");
  const events = await drain(batches);
  assert.deepEqual(events.map((e) => e.seqNo), Array.from({ length: 3000 }, (_, i) => i + 1));
  assert.equal(new TextDecoder().decode(events[2999]!.bytes), "3000");
});

test("a stream that was already read is not taken as batches and loses no event", async () => {
  const log = await logWith(2000);
  const stream = log.eventsById("counter", "a", 1);
  const reader = stream.getReader();
  const first = await reader.read();
  assert.equal(first.value?.seqNo, 1);
  reader.releaseLock();
  assert.equal(takeBatches(stream), undefined);
  const rest = await collect(stream);
  assert.deepEqual(rest.map((e) => e.seqNo), Array.from({ length: 1999 }, (_, i) => i + 2));
});

test("a stream built elsewhere has no batches", () => {
  const stream = new ReadableStream<PersistedEvent>({ pull: (c) => c.close() });
  assert.equal(takeBatches(stream), undefined);
  assert.equal(stream.locked, false);
});

test("an abort rejects a batch read that waits on a live log with the signal's reason", async () => {
  const log = await logWith(10);
  const controller = new AbortController();
  const batches = takeBatches(
    log.eventsByType("counter", 1, { live: true, signal: controller.signal }),
  )!;
  assert.equal((await batches.next())?.length, 10);
  const waiting = batches.next();
  const reason = new Error("stop reading");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  await assert.rejects(batches.next(), (error) => error === reason);
});

test("cancelling the batches of a live read ends a waiting read with null", async () => {
  const log = await logWith(3);
  const batches = takeBatches(log.eventsById("counter", "a", 1, { live: true }))!;
  assert.equal((await batches.next())?.length, 3);
  const waiting = batches.next();
  await batches.cancel(new Error("done"));
  assert.equal(await waiting, null);
});

test("a live batch read wakes with events written after it started", async () => {
  const log = await logWith(1);
  const batches = takeBatches(log.eventsById("counter", "a", 2, { live: true }))!;
  const waiting = batches.next();
  await log.persist("counter", "a", 1, [encoder.encode("2"), encoder.encode("3")]);
  assert.deepEqual((await waiting)?.map((e) => e.seqNo), [2, 3]);
  await batches.cancel(undefined);
});
