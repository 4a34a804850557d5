import { test } from "node:test";
import assert from "node:assert/strict";
import { jsonBinarize } from "../mod.ts";

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
