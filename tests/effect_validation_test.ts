// A command handler's return value is user input: a hand-built effect of the wrong shape fails
// the command with a message that names what is wrong, and nothing is written.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type CommandEffect, isHandleCommandError, jsonBinarize, spawn } from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();
type Effect = CommandEffect<number, CounterEvent, unknown, unknown>;

const cases: [string, unknown, RegExp][] = [
  [
    "events a string",
    { type: "emit", events: "abc" },
    /events is the string "abc", expected an array/,
  ],
  ["events missing", { type: "emit" }, /events is undefined, expected an array/],
  ["events a number", { type: "emit", events: 5 }, /events is number 5, expected an array/],
  ["events null", { type: "emit", events: null }, /events is null, expected an array/],
  [
    "makeReply not a function",
    { type: "emit", events: [{ type: "increased", by: 1 }], makeReply: 3 },
    /makeReply is number 3, expected a function or undefined/,
  ],
  ["unknown type", { type: "persist", events: [] }, /effect of type the string "persist"/],
  ["no type", { events: [] }, /effect of type undefined/],
  ["null", null, /returned null instead of an effect/],
  ["a string", "emit", /returned the string "emit" instead of an effect/],
];

for (const [what, effect, pattern] of cases) {
  test(`a hand-built effect with ${what} fails the command and writes nothing`, async () => {
    const eventLog = new WrappedEventLog();
    const ref = await spawn(counter, "a", { eventLog, binarize });
    await ref.handleCommand(increase(1));
    const error = await ref.handleCommand({ handleCommand: () => effect as Effect }).catch((e) =>
      e
    );
    assert.ok(isHandleCommandError(error), `expected a HandleCommandError, got ${error}`);
    assert.equal(error.reason, "command-handler-threw");
    assert.match(error.message, /"counter\/a": the command handler returned/);
    assert.match(error.message, pattern);
    assert.equal(eventLog.calls.persist, 1, "only the first command persisted");
    assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 1 });
    await ref.stop();
  });
}

test("a hand-built emit of zero events writes nothing and replies from the current state", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  await ref.handleCommand(increase(2));
  const empty = { type: "emit", events: [], makeReply: (state: number) => state * 10 } as const;
  assert.deepEqual(await ref.handleCommand({ handleCommand: () => empty }), {
    ok: true,
    value: 20,
  });
  const bare = { type: "emit", events: [], makeReply: undefined } as const;
  assert.deepEqual(await ref.handleCommand({ handleCommand: () => bare }), {
    ok: true,
    value: undefined,
  });
  assert.equal(eventLog.calls.persist, 1);
  await ref.stop();
});
