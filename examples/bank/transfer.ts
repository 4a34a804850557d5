// A transfer between two accounts, itself an entity: it records each step, so a transfer
// that stopped half-way (a crash between withdrawal and deposit) can be resumed from its log.
//
// Every step is a command with metadata: the transfer's id as `correlationId` (everything done
// for one transfer, in both accounts and in the transfer itself, can be found by it), the id of
// the step that led to it as `causationId`, and a `commandId` derived from the transfer's id
// and the step. A step sent again after a crash carries the same `commandId`, so an entity that
// already wrote it answers a `Duplicate` and books nothing twice.

import {
  type Command,
  type CommandEffect,
  emit,
  emitAndReply,
  type EntityRegistry,
  type EventSourced,
  reject,
  reply,
} from "../../mod.ts";
import { type Account, type AccountEvent, deposit, euros, withdraw } from "./account.ts";

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

/**
 * The steps of a transfer, in order: `request` (the transfer is asked for), `debit` (the
 * source account withdraws), then `debited` or `declined` (the transfer records the outcome),
 * `credit` (the target account deposits) and `credited`.
 */
export type TransferStep = "request" | "debit" | "debited" | "declined" | "credit" | "credited";

/** The step that causes each step (the request is caused by whoever sent it). */
const CAUSE: Record<Exclude<TransferStep, "request">, TransferStep> = {
  debit: "request",
  debited: "debit",
  declined: "debit",
  credit: "debited",
  credited: "credit",
};

/**
 * The metadata of one step of transfer `transferId`: its `commandId` is `<transferId>:<step>`
 * (the same on every attempt), its `causationId` the `commandId` of the step before it.
 */
export function stepMetadata(transferId: string, step: TransferStep) {
  return {
    commandId: `${transferId}:${step}`,
    correlationId: transferId,
    ...(step === "request" ? {} : { causationId: `${transferId}:${CAUSE[step]}` }),
  };
}

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

function record(event: TransferEvent, expected: TransferStatus): TransferCommand<undefined> {
  return {
    handleCommand: (_id, state) =>
      state.status === expected ? emit(event) : reject(`transfer is ${state.status}`),
  };
}

const current: TransferCommand<Transfer> = { handleCommand: (_id, state) => reply(state) };

/** How a run of {@linkcode runTransfer} went. */
export interface TransferRun {
  /** The transfer's state at the end of the run. */
  readonly transfer: Transfer;
  /** The steps an entity answered as a `Duplicate`: done before, not done again. */
  readonly duplicates: readonly TransferStep[];
}

/**
 * Runs a transfer to its end: withdraw from the source, deposit into the target, recording
 * each step; resumes from whatever step the transfer's log reached. Safe to call again after a
 * crash at any point: a step that was written but not recorded as done is sent again with the
 * same `commandId` and answered as a `Duplicate`. `stopAfterDebit` ends the run right after the
 * withdrawal, before the transfer records it: the demo uses it to act out such a crash.
 */
export async function runTransfer(
  transfers: EntityRegistry<Transfer, TransferEvent>,
  accounts: EntityRegistry<Account, AccountEvent>,
  transferId: string,
  options: { stopAfterDebit?: boolean } = {},
): Promise<TransferRun> {
  const duplicates: TransferStep[] = [];
  const state = async () => {
    const result = await transfers.handleCommand(transferId, current);
    if (!result.ok) throw new Error(`transfer ${transferId}: ${result.error}`);
    return result.value;
  };
  // Sends a step to an account with its metadata; a Duplicate means it was done before.
  const book = async <Reply, Error>(
    accountId: string,
    command: Command<Account, AccountEvent, Reply, Error>,
    step: TransferStep,
  ) => {
    const answer = await accounts.handleCommand(accountId, command, {
      metadata: stepMetadata(transferId, step),
    });
    if ("duplicate" in answer) duplicates.push(step);
    return answer;
  };
  // Records a step in the transfer's own log, likewise.
  const note = async (event: TransferEvent, expected: TransferStatus, step: TransferStep) => {
    const answer = await transfers.handleCommand(transferId, record(event, expected), {
      metadata: stepMetadata(transferId, step),
    });
    if ("duplicate" in answer) duplicates.push(step);
    else if (!answer.ok) throw new Error(`transfer ${transferId}: ${answer.error}`);
  };

  let transfer = await state();
  if (transfer.status === "requested") {
    const debit = await book(
      transfer.from,
      withdraw(transfer.amount, `${transferId}:debit`),
      "debit",
    );
    if (options.stopAfterDebit) return { transfer, duplicates };
    if (debit.ok) {
      await note({ type: "debited" }, "requested", "debited");
    } else {
      const reason = debit.error.type === "InsufficientFunds"
        ? `insufficient funds: balance ${euros(debit.error.balance)}, requested ${
          euros(debit.error.requested)
        }`
        : `invalid amount ${euros(debit.error.amount)}`;
      await note({ type: "declined", reason }, "requested", "declined");
    }
    transfer = await state();
  }
  if (transfer.status === "debited") {
    const credit = await book(
      transfer.to,
      deposit(transfer.amount, `${transferId}:credit`),
      "credit",
    );
    if (!credit.ok) {
      throw new Error(`transfer ${transferId}: deposit refused (${credit.error.type})`);
    }
    await note({ type: "credited" }, "debited", "credited");
    transfer = await state();
  }
  return { transfer, duplicates };
}
