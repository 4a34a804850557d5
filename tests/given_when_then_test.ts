import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryEventLog, MemorySnapshotStore } from "../mod.ts";
import { given, testEventLog, testSnapshotStore } from "../testing/mod.ts";
import { counter, decrease, get, increase } from "./_counter.ts";

test("given/when/then checks emitted events, reply and state", () => {
  const outcome = given(counter, [{ type: "increased", by: 5 }]).when(decrease(2));
  assert.deepEqual(outcome.events, [{ type: "decreased", by: 2 }]);
  assert.deepEqual(outcome.result, { ok: true, value: 3 });
  assert.equal(outcome.state, 3);
  outcome.then({ events: [{ type: "decreased", by: 2 }], reply: 3, state: 3 });
});

test("given/when/then checks rejections and replies without events", () => {
  given(counter).when(decrease(1)).then({ events: [], error: "Underflow", state: 0 });
  given(counter, [{ type: "increased", by: 2 }]).when(get).then({ events: [], reply: 2 });
});

test("given/when/then fails with an AssertionError naming the mismatch", () => {
  assert.throws(
    () => given(counter).when(increase(1)).then({ reply: 2 }),
    (error: Error) => error.name === "AssertionError" && /reply/.test(error.message),
  );
  assert.throws(
    () => given(counter).when(increase(1)).then({ error: "Overflow" }),
    /expected a rejection/,
  );
});

test("given refuses unknown option keys and hand-built effects of the wrong shape", () => {
  assert.throws(
    () => given(counter, [], { ID: "x" } as { id?: string }),
    /Unknown given option "ID": known options are id/,
  );
  const bad = { handleCommand: () => ({ type: "emit", events: "abc" }) as never };
  assert.throws(
    () => given(counter, []).when(bad),
    /events is the string "abc", expected an array/,
  );
});

test("the conformance suites refuse unknown option keys", () => {
  assert.throws(
    () => testEventLog("x", () => new MemoryEventLog(), { timeot: 5 } as never),
    /Unknown testEventLog option "timeot": known options are dispose, sameStorage, timeout/,
  );
  assert.throws(
    () => testSnapshotStore("x", () => new MemorySnapshotStore(), { timeout: -1 }),
    /testSnapshotStore option timeout -1: expected a positive integer/,
  );
});
