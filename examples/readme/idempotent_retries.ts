import {
  type Command,
  type Duplicate,
  emitAndReply,
  type EntityRef,
  type EventSourced,
  isHandleCommandError,
  jsonBinarize,
  MemoryEventLog,
  type Result,
  spawn,
  StorageError,
} from "../../mod.ts";
import assert from "node:assert/strict";

const counter: EventSourced<number, number> = {
  typeName: "counter",
  initialState: 0,
  handleEvent: (total, by) => total + by,
};
const add = (by: number): Command<number, number, number, never> => ({
  handleCommand: () => emitAndReply(by, (total) => total),
});

// A log that stores the first write but loses its answer, as a dropped connection can.
class LosingLog extends MemoryEventLog {
  lose = true;
  override async persist(...args: Parameters<MemoryEventLog["persist"]>): Promise<number> {
    const seqNo = await super.persist(...args);
    if (!this.lose) return seqNo;
    this.lose = false;
    throw new StorageError("connection lost after sending", { reason: "outcome-unknown" });
  }
}

// Sends a command with one commandId for every attempt, retrying when its outcome is unknown.
async function send<Reply, Error>(
  ref: EntityRef<number, number>,
  command: Command<number, number, Reply, Error>,
  commandId: string,
): Promise<Result<Reply, Error> | Duplicate> {
  for (let attempt = 1;; attempt++) {
    try {
      return await ref.handleCommand(command, { metadata: { commandId } });
    } catch (error) {
      const unknown = isHandleCommandError(error) && error.reason === "persist-outcome-unknown";
      if (!unknown || attempt === 3) throw error;
    }
  }
}

const eventLog = new LosingLog();
const ref = await spawn(counter, "c", { eventLog, binarize: jsonBinarize() });
// The first attempt was written, but its answer lost; the retry is answered as a duplicate.
assert.deepEqual(await send(ref, add(5), "add-5-a1"), {
  ok: true,
  duplicate: true,
  value: undefined,
  seqNo: 1,
});
assert.deepEqual(await send(ref, add(2), "add-2-b7"), { ok: true, value: 7 });
await ref.stop();

// A new incarnation reads the command ids of its last events back from the log.
const again = await spawn(counter, "c", { eventLog, binarize: jsonBinarize() });
const repeat = await again.handleCommand(add(2), { metadata: { commandId: "add-2-b7" } });
assert.ok("duplicate" in repeat && repeat.seqNo === 2);
// A command without a commandId is never a duplicate: its result is a plain Result.
assert.deepEqual(await again.handleCommand(add(1)), { ok: true, value: 8 });
await again.stop();
