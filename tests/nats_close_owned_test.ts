// Closing an owned NATS connection never waits forever: nats.js resolves close() only on the
// socket's close event, which a WebSocket closed while connecting may never fire.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/nats-core";
import { closeOwned } from "../adapters/nats/_close_owned.ts";

function connection(close: () => Promise<void>, closed = false): NatsConnection {
  let calls = 0;
  return {
    isClosed: () => closed,
    close: () => {
      calls++;
      return close();
    },
    get calls() {
      return calls;
    },
  } as unknown as NatsConnection;
}

test("closeOwned: a close that never settles is given up after the wait", async () => {
  const nc = connection(() => new Promise<void>(() => {}));
  await closeOwned(nc, 50);
  assert.equal((nc as unknown as { calls: number }).calls, 1);
});

test("closeOwned: a close that fails rejects with its error", async () => {
  const nc = connection(() => Promise.reject(new Error("flush failed")));
  await assert.rejects(closeOwned(nc, 1_000), /flush failed/);
});

test("closeOwned: a connection already closed is left alone", async () => {
  const nc = connection(() => Promise.reject(new Error("closed twice")), true);
  await closeOwned(nc, 1_000);
  assert.equal((nc as unknown as { calls: number }).calls, 0);
});
