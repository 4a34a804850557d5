import {
  type Command,
  deleteEntity,
  deleteEventsUpTo,
  emitAndReply,
  EntityRegistry,
  type EventSourced,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
} from "../../mod.ts";
import assert from "node:assert/strict";

type Deposited = { type: "deposited"; cents: number };
const account: EventSourced<number, Deposited> = {
  typeName: "account",
  initialState: 0,
  handleEvent: (balance, event) => balance + event.cents,
};
const deposit = (cents: number): Command<number, Deposited, number, never> => ({
  handleCommand: () => emitAndReply({ type: "deposited", cents }, (balance) => balance),
});

const stores = { eventLog: new MemoryEventLog(), snapshotStore: new MemorySnapshotStore() };
const registry = new EntityRegistry(account, {
  ...stores,
  binarize: jsonBinarize(),
  snapshotAfter: 3,
});
for (const cents of [100, 200, 300, 400]) await registry.handleCommand("a", deposit(cents));
await registry.passivate("a"); // stops the entity; its snapshot at seqNo 3 is saved by then

// Up to the snapshot: events 1 to 3 go, and the entity recovers from the snapshot.
assert.deepEqual(await deleteEventsUpTo(stores, "account", "a"), { deleted: 3, toSeqNo: 3 });
assert.deepEqual(await registry.handleCommand("a", deposit(5)), { ok: true, value: 1005 });

// Entirely: passivate it first, and send it nothing until the call has resolved.
await registry.passivate("a");
assert.deepEqual(await deleteEntity(stores, "account", "a"), { deleted: 2 });
assert.deepEqual(await registry.handleCommand("a", deposit(1)), { ok: true, value: 1 });
await registry.close();
