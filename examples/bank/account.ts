// A bank account: deposits, and withdrawals rejected when the balance is too low.

import {
  type Command,
  type CommandEffect,
  emitAndReply,
  type EventSourced,
  reject,
  reply,
} from "../../mod.ts";

export type AccountEvent =
  | { type: "deposited"; amount: number; reference: string }
  | { type: "withdrawn"; amount: number; reference: string };

export interface Account {
  readonly balance: number;
  /**
   * The latest booking references (a transfer step's is its `commandId`). A step sent again
   * with its `commandId` is answered as a `Duplicate` before it gets here; one sent again
   * without it finds its reference here and is not booked twice either.
   */
  readonly references: readonly string[];
}

export type AccountError =
  | { type: "InvalidAmount"; amount: number }
  | { type: "InsufficientFunds"; balance: number; requested: number };

type Effect = CommandEffect<Account, AccountEvent, number, AccountError>;

export const account: EventSourced<Account, AccountEvent> = {
  typeName: "account",
  initialState: { balance: 0, references: [] },
  handleEvent: (state, event) => ({
    balance: event.type === "deposited"
      ? state.balance + event.amount
      : state.balance - event.amount,
    references: [...state.references.slice(-99), event.reference],
  }),
};

function validAmount(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount > 0;
}

/** An amount of cents as euros, for people: 7000 → "€70.00". */
export const euros = (cents: number): string => `€${(cents / 100).toFixed(2)}`;

/** Deposits `amount` (in cents); replies with the new balance. */
export function deposit(
  amount: number,
  reference: string,
): Command<Account, AccountEvent, number, AccountError> {
  return {
    handleCommand: (_id, state): Effect => {
      if (!validAmount(amount)) return reject({ type: "InvalidAmount", amount });
      if (state.references.includes(reference)) return reply(state.balance);
      return emitAndReply({ type: "deposited", amount, reference }, (s) => s.balance);
    },
  };
}

/** Withdraws `amount` (in cents) unless the balance is lower; replies with the new balance. */
export function withdraw(
  amount: number,
  reference: string,
): Command<Account, AccountEvent, number, AccountError> {
  return {
    handleCommand: (_id, state): Effect => {
      if (!validAmount(amount)) return reject({ type: "InvalidAmount", amount });
      if (state.references.includes(reference)) return reply(state.balance);
      if (state.balance < amount) {
        return reject({ type: "InsufficientFunds", balance: state.balance, requested: amount });
      }
      return emitAndReply({ type: "withdrawn", amount, reference }, (s) => s.balance);
    },
  };
}

/** Replies with the balance. */
export const balance: Command<Account, AccountEvent, number, never> = {
  handleCommand: (_id, state) => reply(state.balance),
};
