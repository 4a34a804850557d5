// A transfer between two accounts, itself an entity: it records each step, so a transfer
// that stopped half-way (a crash between withdrawal and deposit) can be resumed from its log.

import {
  type Command,
  type CommandEffect,
  emit,
  emitAndReply,
  type EventSourced,
  reject,
  reply,
  type Result,
} from "../../mod.ts";
import type { EntityRegistry } from "../../mod.ts";
import {
  type Account,
  type AccountError,
  type AccountEvent,
  deposit,
  euros,
  withdraw,
} from "./account.ts";

export type TransferEvent =
  | { type: "requested"; from: string; to: string; amount: number }
  | { type: "debited" }
  | { type: "credited" }
  | { type: "declined"; reason: string };

export type TransferStatus = "new" | "requested" | "debited" | "completed" | "declined";

export interface Transfer {
  readonly status: TransferStatus;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly reason?: string;
}

export const transfer: EventSourced<Transfer, TransferEvent> = {
  typeName: "transfer",
  initialState: { status: "new", from: "", to: "", amount: 0 },
  handleEvent: (state, event) => {
    switch (event.type) {
      case "requested":
        return { status: "requested", from: event.from, to: event.to, amount: event.amount };
      case "debited":
        return { ...state, status: "debited" };
      case "credited":
        return { ...state, status: "completed" };
      case "declined":
        return { ...state, status: "declined", reason: event.reason };
    }
  },
};

type TransferCommand<Reply> = Command<Transfer, TransferEvent, Reply, string>;
type Effect<Reply> = CommandEffect<Transfer, TransferEvent, Reply, string>;

export function request(from: string, to: string, amount: number): TransferCommand<Transfer> {
  return {
    handleCommand: (_id, state): Effect<Transfer> => {
      if (state.status !== "new") return reply(state);
      if (from === to) return reject("a transfer needs two different accounts");
      return emitAndReply({ type: "requested", from, to, amount }, (s) => s);
    },
  };
}

function step(event: TransferEvent, expected: TransferStatus): TransferCommand<undefined> {
  return {
    handleCommand: (_id, state) =>
      state.status === expected ? emit(event) : reject(`transfer is ${state.status}`),
  };
}

/**
 * Runs a transfer to its end: withdraw from the source, deposit into the target, recording
 * each step; resumes from whatever step the transfer's log reached.
 */
export async function runTransfer(
  transfers: EntityRegistry<Transfer, TransferEvent>,
  accounts: EntityRegistry<Account, AccountEvent>,
  transferId: string,
): Promise<Transfer> {
  const state = async () => {
    const result = await transfers.handleCommand(transferId, {
      handleCommand: (_id, s) => reply(s),
    });
    return (result as { value: Transfer }).value;
  };
  let current = await state();
  if (current.status === "requested") {
    const debit: Result<number, AccountError> = await accounts.handleCommand(
      current.from,
      withdraw(current.amount, `${transferId}:debit`),
    );
    if (debit.ok) {
      await transfers.handleCommand(transferId, step({ type: "debited" }, "requested"));
    } else {
      const reason = debit.error.type === "InsufficientFunds"
        ? `insufficient funds: balance ${euros(debit.error.balance)}, requested ${
          euros(debit.error.requested)
        }`
        : `invalid amount ${euros(debit.error.amount)}`;
      await transfers.handleCommand(transferId, step({ type: "declined", reason }, "requested"));
    }
    current = await state();
  }
  if (current.status === "debited") {
    await accounts.handleCommand(current.to, deposit(current.amount, `${transferId}:credit`));
    await transfers.handleCommand(transferId, step({ type: "credited" }, "debited"));
    current = await state();
  }
  return current;
}
