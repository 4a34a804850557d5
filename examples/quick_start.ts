import {
  type Command,
  emitAndReply,
  type EventSourced,
  jsonBinarize,
  MemoryEventLog,
  reject,
  spawn,
} from "../mod.ts";

// An entity: a type name, an initial state and a pure event handler.
type Event = { type: "deposited"; amount: number } | { type: "withdrawn"; amount: number };
const account: EventSourced<number, Event> = {
  typeName: "account",
  initialState: 0,
  handleEvent: (balance, event) =>
    event.type === "deposited" ? balance + event.amount : balance - event.amount,
};

// Commands decide from id and state: reject, reply, or emit events and reply.
const deposit = (amount: number): Command<number, Event, number, never> => ({
  handleCommand: () => emitAndReply({ type: "deposited", amount }, (balance) => balance),
});
const withdraw = (amount: number): Command<number, Event, number, "InsufficientFunds"> => ({
  handleCommand: (_id, balance) =>
    balance < amount
      ? reject("InsufficientFunds")
      : emitAndReply({ type: "withdrawn", amount }, (newBalance) => newBalance),
});

// spawn recovers the entity from its log and runs its commands one at a time.
const eventLog = new MemoryEventLog();
const alice = await spawn(account, "alice", { eventLog, binarize: jsonBinarize() });
console.log(await alice.handleCommand(deposit(100))); // { ok: true, value: 100 }
console.log(await alice.handleCommand(withdraw(150))); // { ok: false, error: "InsufficientFunds" }
console.log(await alice.handleCommand(withdraw(30))); // { ok: true, value: 70 }
await alice.stop();

// A later spawn replays the log: the balance is still 70.
const again = await spawn(account, "alice", { eventLog, binarize: jsonBinarize() });
console.log(await again.handleCommand(deposit(5))); // { ok: true, value: 75 }
await again.stop();
