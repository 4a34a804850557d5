// A persist whose outcome the log cannot know (a StorageError "outcome-unknown") fails the
// command with "persist-outcome-unknown", and the entity re-syncs before its next command.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isHandleCommandError, jsonBinarize, spawn, StorageError } from "../mod.ts";
import { counter, type CounterEvent, get, increase } from "./_counter.ts";
import { WrappedEventLog } from "./_wrapped_log.ts";

const binarize = jsonBinarize<CounterEvent, number>();

test("a write whose ack never came fails with persist-outcome-unknown and the entity re-syncs", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  await ref.handleCommand(increase(1));
  eventLog.nextPersist = async (write) => {
    await write();
    throw new StorageError("no ack", { reason: "outcome-unknown" });
  };
  const error = await ref.handleCommand(increase(5)).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "persist-outcome-unknown");
  assert.match(error.message, /"counter\/a".*outcome .* is unknown/);
  assert.equal((error.cause as StorageError).reason, "outcome-unknown");
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 6 }, "re-synced");
  assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: 7 });
  assert.equal(await eventLog.lastSeqNo("counter", "a"), 3);
  await ref.stop();
});

test("other StorageError reasons stay persist-failed", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  eventLog.nextPersist = () => Promise.reject(new StorageError("down", { reason: "unavailable" }));
  const error = await ref.handleCommand(increase(5)).catch((e) => e);
  assert.equal(error.reason, "persist-failed");
  assert.deepEqual(await ref.handleCommand(get), { ok: true, value: 0 });
  await ref.stop();
});

test("once the persist is handed to the log, an abort of the command's signal does not change its outcome", async () => {
  const eventLog = new WrappedEventLog();
  const ref = await spawn(counter, "a", { eventLog, binarize });
  const controller = new AbortController();
  eventLog.nextPersist = async (write) => {
    controller.abort(new Error("caller gone"));
    return await write().catch(() => {
      throw new StorageError("aborted after sending", { reason: "outcome-unknown" });
    });
  };
  const error = await ref.handleCommand(increase(5), { signal: controller.signal }).catch((e) => e);
  assert.equal(error.reason, "persist-outcome-unknown");
  const written = new AbortController();
  eventLog.nextPersist = async (write) => {
    const seqNo = await write();
    written.abort(new Error("too late"));
    return seqNo;
  };
  assert.deepEqual(await ref.handleCommand(increase(1), { signal: written.signal }), {
    ok: true,
    value: 1,
  });
  await ref.stop();
});
