import { test } from "node:test";
import assert from "node:assert/strict";
import { given } from "../testing/mod.ts";
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
