// The pacing of NOTIFY (adapters/_sql/notify_pacer.ts): which appends carry one, and that
// events committed without one are announced within the interval.

import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyPacer } from "../adapters/_sql/notify_pacer.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder(): { sent: string[][]; pacer: (interval: number) => NotifyPacer } {
  const sent: string[][] = [];
  return {
    sent,
    pacer: (interval) =>
      new NotifyPacer(interval, (typeNames) => {
        sent.push([...typeNames]);
        return Promise.resolve();
      }),
  };
}

test("the first append of a type name carries NOTIFY, the next ones within the interval do not", () => {
  const { pacer } = recorder();
  const notify = pacer(10_000);
  assert.equal(notify.carry(["a"]), true);
  assert.equal(notify.carry(["a"]), false);
  assert.equal(notify.carry(["b"]), true, "another type name has its own interval");
  assert.equal(notify.carry(["a", "c"]), true, "one due type name makes the batch carry");
  assert.equal(notify.carry(["c"]), false, "and counts as announced for all of them");
});

test("with interval 0 every append carries NOTIFY", () => {
  const { pacer, sent } = recorder();
  const notify = pacer(0);
  for (let i = 0; i < 3; i++) assert.equal(notify.carry(["a"]), true);
  notify.committed(["a"], true);
  assert.deepEqual(sent, []);
});

test("events committed without NOTIFY are announced within the interval, once", async () => {
  const { pacer, sent } = recorder();
  const notify = pacer(30);
  notify.carry(["a"]);
  notify.committed(["a"], true);
  assert.equal(notify.carry(["a"]), false);
  notify.committed(["a"], false);
  notify.committed(["a"], false);
  assert.deepEqual(sent, [], "not before the interval");
  for (let waited = 0; sent.length === 0 && waited < 2_000; waited += 5) await sleep(5);
  assert.deepEqual(sent, [["a"]]);
  assert.equal(notify.carry(["a"]), false, "the NOTIFY just sent counts as the last one");
  await sleep(100);
  assert.deepEqual(sent, [["a"]], "sent once");
});

test("a later append that carries NOTIFY announces what was owed", async () => {
  const { pacer, sent } = recorder();
  const notify = pacer(30);
  notify.carry(["a"]);
  notify.committed(["a"], false);
  notify.committed(["a"], true);
  await sleep(200);
  assert.deepEqual(sent, []);
});

test("flush sends what is owed at once and never rejects", async () => {
  const failing = new NotifyPacer(10_000, () => Promise.reject(new Error("connection closed")));
  failing.carry(["a"]);
  failing.committed(["a"], false);
  await failing.flush();
  const { pacer, sent } = recorder();
  const notify = pacer(10_000);
  notify.committed(["b"], false);
  await notify.flush();
  assert.deepEqual(sent, [["b"]]);
  await notify.flush();
  assert.deepEqual(sent, [["b"]], "nothing is sent twice");
});

test("under a steady stream of appends, the appends carry every NOTIFY", async () => {
  const sent: string[][] = [];
  // The pacer's own clock: one append a millisecond for 300 ms, each committing at once.
  let clock = 0;
  const notify = new NotifyPacer(50, (typeNames) => {
    sent.push([...typeNames]);
    return Promise.resolve();
  }, () => clock);
  let carried = 0;
  for (; clock < 300; clock++) {
    const carries = notify.carry(["a"]);
    if (carries) carried++;
    notify.committed(["a"], carries);
  }
  assert.equal(carried, 6, "at 0, 50, 100, 150, 200 and 250 ms");
  assert.deepEqual(sent, []);
  // The appends after the last one that carried are announced by a NOTIFY of their own, once
  // their interval has passed.
  clock += 100;
  for (let waited = 0; sent.length === 0 && waited < 2_000; waited += 5) await sleep(5);
  assert.deepEqual(sent, [["a"]]);
});
