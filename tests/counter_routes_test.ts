// The counter API's handler (examples/edge-worker/routes.ts) called directly, for answers a
// server test cannot provoke: an entity whose mailbox is full.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EntityRegistry, jsonBinarize } from "../mod.ts";
import { counter } from "../examples/edge-worker/counter.ts";
import { handleCounterRequest } from "../examples/edge-worker/routes.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";

test("a counter whose mailbox is full answers 503 with Retry-After, and nothing is written", async () => {
  const eventLog = new WrappedEventLog();
  const counters = new EntityRegistry(counter, {
    eventLog,
    binarize: jsonBinarize(),
    commandBufferSize: 1,
  });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  eventLog.nextPersist = async (write) => {
    await held;
    return write();
  };
  const post = () =>
    handleCounterRequest(
      new Request("http://localhost/counter/a/increase?by=1", { method: "POST" }),
      counters,
    );
  const running = post(); // holds the entity in its persist
  await new Promise((resolve) => setTimeout(resolve, 10));
  const queued = post(); // waits in the mailbox (room for 1)
  const refused = await post();
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  const body = await refused.json();
  assert.equal(body.code, "EVENTSOURCED_HANDLE_COMMAND_FAILED");
  assert.match(body.error, /mailbox is full/);
  release();
  assert.deepEqual(await (await running).json(), { id: "a", value: 1 });
  assert.deepEqual(await (await queued).json(), { id: "a", value: 2 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 2);
  await counters.close();
});
