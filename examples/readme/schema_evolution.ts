import {
  type Command,
  emitAndReply,
  type EventEnvelope,
  EventReader,
  type EventSourced,
  isDecodeError,
  jsonBinarize,
  MemoryEventLog,
  spawn,
} from "../../mod.ts";
import assert from "node:assert/strict";

// Version 1 of the event had `cents`, version 2 renamed it to `amount`, version 3 made the
// amount a sum with a currency. Each upcaster turns a value of its version into the next one.
type DepositedV1 = { type: "deposited"; cents: number };
type DepositedV2 = { type: "deposited"; amount: number };
type Deposited = { type: "deposited"; amount: { cents: number; currency: string } };
const fromV1 = ({ cents }: DepositedV1): DepositedV2 => ({ type: "deposited", amount: cents });
const fromV2 = ({ amount }: DepositedV2): Deposited => ({
  type: "deposited",
  amount: { cents: amount, currency: "EUR" },
});
const binarize = jsonBinarize<Deposited, number>({ version: 3, upcast: { 1: fromV1, 2: fromV2 } });

// Events that the code of version 1 wrote (without a version: they read as version 1).
const eventLog = new MemoryEventLog();
const v1 = jsonBinarize<DepositedV1, number>();
await eventLog.persist("account", "a", null, [v1.eventToBytes({ type: "deposited", cents: 500 })]);

// The entity sees only the current shape; what it writes now is stored as version 3.
const account: EventSourced<number, Deposited> = {
  typeName: "account",
  initialState: 0,
  handleEvent: (balance, event) => balance + event.amount.cents,
};
const deposit = (cents: number): Command<number, Deposited, number, never> => ({
  handleCommand: () =>
    emitAndReply({ type: "deposited", amount: { cents, currency: "EUR" } }, (balance) => balance),
});
const ref = await spawn(account, "a", { eventLog, binarize });
assert.deepEqual(await ref.handleCommand(deposit(200)), { ok: true, value: 700 });
await ref.stop();

// So do readers and projections; `version` tells what each event was stored as.
const read = async <Event>(reader: EventReader<Event>) => {
  const envelopes: EventEnvelope<Event>[] = [];
  for await (const envelope of reader.eventsById("a")) envelopes.push(envelope);
  return envelopes;
};
const envelopes = await read(new EventReader(account, { eventLog, binarize }));
assert.deepEqual(envelopes.map(({ version, event }) => [version, event]), [
  [1, { type: "deposited", amount: { cents: 500, currency: "EUR" } }],
  [3, { type: "deposited", amount: { cents: 200, currency: "EUR" } }],
]);

// Code that knows only version 2 refuses the version-3 event instead of misreading it.
const older = jsonBinarize<DepositedV2, number>({ version: 2, upcast: { 1: fromV1 } });
await assert.rejects(
  read(new EventReader<DepositedV2>(account, { eventLog, binarize: older })),
  (error) => isDecodeError(error) && error.version === 3 && error.seqNo === 2,
);
