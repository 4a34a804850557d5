import { test } from "node:test";
import assert from "node:assert/strict";
import { emit, isHandleCommandError, jsonBinarize, MemoryEventLog, spawn } from "../mod.ts";

test("jsonBinarize round-trips events and states, ASCII and not", () => {
  const binarize = jsonBinarize<unknown, unknown>();
  const values = [
    { type: "increased", by: 1 },
    { name: "Zoë 日本 😀", nested: [1, null, true, "x".repeat(1000)] },
    "plain",
    0,
    [],
  ];
  for (const value of values) {
    assert.deepEqual(binarize.eventFromBytes(binarize.eventToBytes(value)), value);
    assert.deepEqual(binarize.stateFromBytes(binarize.stateToBytes(value)), value);
  }
  assert.deepEqual(
    [...binarize.eventToBytes({ s: "é" })],
    [...new TextEncoder().encode('{"s":"é"}')],
    "non-ASCII text is UTF-8",
  );
});

test("jsonBinarize refuses values without a JSON form and bytes that are not UTF-8 JSON", () => {
  const binarize = jsonBinarize<unknown, unknown>();
  assert.throws(() => binarize.eventToBytes(undefined), /no JSON form/);
  assert.throws(() => binarize.eventToBytes(() => 1), /no JSON form/);
  assert.throws(() => binarize.eventToBytes(1n), TypeError);
  assert.throws(() => binarize.eventFromBytes(new Uint8Array([0xff, 0xfe])), TypeError);
  assert.throws(() => binarize.eventFromBytes(new TextEncoder().encode("{")), SyntaxError);
});

test("jsonBinarize refuses NaN and ±Infinity at encode time, naming the path", () => {
  const binarize = jsonBinarize<unknown, unknown>();
  assert.throws(() => binarize.eventToBytes(NaN), /Cannot encode NaN at \$ as JSON/);
  assert.throws(
    () => binarize.eventToBytes({ type: "paid", amount: Infinity }),
    /Cannot encode Infinity at \$\.amount/,
  );
  assert.throws(
    () => binarize.stateToBytes({ lines: [{ price: 1 }, { price: -Infinity }] }),
    /Cannot encode -Infinity at \$\.lines\[1\]\.price/,
  );
  assert.throws(() => binarize.eventToBytes([null, 0 / 0]), /NaN at \$\[1\]/);
  const withNulls = { a: null, b: "null", c: [null] };
  assert.deepEqual(binarize.eventFromBytes(binarize.eventToBytes(withNulls)), withNulls);
});

test("an event with a non-finite number fails the command with encode-failed, nothing written", async () => {
  const eventLog = new MemoryEventLog();
  const binarize = jsonBinarize<{ by: number }, number>();
  const entity = { typeName: "counter", initialState: 0, handleEvent: (s: number) => s };
  const ref = await spawn(entity, "a", { eventLog, binarize });
  const error = await ref.handleCommand({ handleCommand: () => emit({ by: NaN }) }).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "encode-failed");
  assert.match(String(error.cause), /NaN at \$\.by/);
  assert.equal(await eventLog.lastSeqNo("counter", "a"), null);
  await ref.stop();
});
