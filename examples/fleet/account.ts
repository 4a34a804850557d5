// The fleet's entity: a bank account whose commands have names, so that a client in any
// process can send them and the host that owns the account runs them. Hosts and clients both
// import this file: the hosts run the factories, the clients take the names and types.

import {
  type Command,
  commandSet,
  emitAndReply,
  type EventSourced,
  reject,
  reply,
} from "../../mod.ts";

export type AccountEvent =
  | { type: "deposited"; amount: number }
  | { type: "withdrawn"; amount: number };

export const account: EventSourced<number, AccountEvent> = {
  typeName: "account",
  initialState: 0,
  handleEvent: (balance, event) =>
    event.type === "deposited" ? balance + event.amount : balance - event.amount,
};

type AccountCommand<Reply, Rejection> = Command<number, AccountEvent, Reply, Rejection>;

// A factory refuses a payload it does not accept by throwing: the caller gets a
// HandleCommandError of reason "bad-payload" and nothing is written.
function amountOf(payload: { amount: number }): number {
  if (!Number.isSafeInteger(payload?.amount) || payload.amount <= 0) {
    throw new RangeError(`amount must be a positive integer, got ${payload?.amount}`);
  }
  return payload.amount;
}

export const accountCommands = commandSet(account, {
  deposit: (payload: { amount: number }): AccountCommand<number, never> => {
    const amount = amountOf(payload);
    return { handleCommand: () => emitAndReply({ type: "deposited", amount }, (b) => b) };
  },
  withdraw: (payload: { amount: number }): AccountCommand<number, "InsufficientFunds"> => {
    const amount = amountOf(payload);
    return {
      handleCommand: (_id, balance) =>
        balance < amount
          ? reject("InsufficientFunds")
          : emitAndReply({ type: "withdrawn", amount }, (b) => b),
    };
  },
  balance: (): AccountCommand<number, never> => ({
    handleCommand: (_id, balance) => reply(balance),
  }),
});
