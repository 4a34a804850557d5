// The bank example's events and states in protobuf (bank.proto), for the example's plain
// TypeScript types: a `Binarize` per entity that maps the plain values to the generated
// messages and hands them to `protobufBinarize`, so `examples/bank` runs with JSON or protobuf
// on the wire without touching its entities. The types below are structurally those of
// examples/bank/account.ts and transfer.ts.

import { create } from "@bufbuild/protobuf";
import type { Binarize } from "../../mod.ts";
import { protobufBinarize } from "../../protobuf/mod.ts";
import {
  AccountEventSchema,
  AccountStateSchema,
  TransferEventSchema,
  TransferStateSchema,
  TransferStatus as Status,
} from "./gen/bank_pb.ts";

/** An account event, as in examples/bank/account.ts. */
export type AccountEvent =
  | { type: "deposited"; amount: number; reference: string }
  | { type: "withdrawn"; amount: number; reference: string };

/** An account's state, as in examples/bank/account.ts. */
export interface Account {
  readonly balance: number;
  readonly references: readonly string[];
}

/** A transfer event, as in examples/bank/transfer.ts. */
export type TransferEvent =
  | { type: "requested"; from: string; to: string; amount: number }
  | { type: "debited" }
  | { type: "credited" }
  | { type: "declined"; reason: string };

/** Where a transfer stands, as in examples/bank/transfer.ts. */
export type TransferStatus = "new" | "requested" | "debited" | "completed" | "declined";

/** A transfer's state, as in examples/bank/transfer.ts. */
export interface Transfer {
  readonly status: TransferStatus;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly reason?: string;
}

// uint64/int64 fields are bigint in protobuf-es; the example's amounts are safe integers.
function toNumber(value: bigint, field: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new RangeError(`Cannot read ${field} ${value}: not a safe integer`);
  }
  return number;
}

const accounts = protobufBinarize(AccountEventSchema, AccountStateSchema, {
  eventOneof: "event",
});
const transfers = protobufBinarize(TransferEventSchema, TransferStateSchema, {
  eventOneof: "event",
});

/** The account entity's events and state in protobuf. */
export function accountBinarize(): Binarize<AccountEvent, Account> {
  return {
    eventToBytes: (event) =>
      accounts.eventToBytes(create(AccountEventSchema, {
        event: {
          case: event.type,
          value: { amount: BigInt(event.amount), reference: event.reference },
        },
      })),
    eventFromBytes: (bytes) => {
      const { event } = accounts.eventFromBytes(bytes);
      if (event.case === undefined) throw new Error("An account event without a case");
      const amount = toNumber(event.value.amount, "amount");
      return { type: event.case, amount, reference: event.value.reference };
    },
    stateToBytes: (state) =>
      accounts.stateToBytes(create(AccountStateSchema, {
        balance: BigInt(state.balance),
        references: [...state.references],
      })),
    stateFromBytes: (bytes) => {
      const state = accounts.stateFromBytes(bytes);
      return { balance: toNumber(state.balance, "balance"), references: state.references };
    },
  };
}

const STATUS: Record<TransferStatus, Status> = {
  new: Status.NEW,
  requested: Status.REQUESTED,
  debited: Status.DEBITED,
  completed: Status.COMPLETED,
  declined: Status.DECLINED,
};

function statusOf(status: Status): TransferStatus {
  const entry = Object.entries(STATUS).find(([, value]) => value === status);
  if (entry === undefined) throw new Error(`Unknown transfer status ${status}`);
  return entry[0] as TransferStatus;
}

/** The transfer entity's events and state in protobuf. */
export function transferBinarize(): Binarize<TransferEvent, Transfer> {
  return {
    eventToBytes: (event) => {
      switch (event.type) {
        case "requested":
          return transfers.eventToBytes(create(TransferEventSchema, {
            event: {
              case: "requested",
              value: { from: event.from, to: event.to, amount: BigInt(event.amount) },
            },
          }));
        case "declined":
          return transfers.eventToBytes(create(TransferEventSchema, {
            event: { case: "declined", value: { reason: event.reason } },
          }));
        default:
          return transfers.eventToBytes(create(TransferEventSchema, {
            event: { case: event.type, value: {} },
          }));
      }
    },
    eventFromBytes: (bytes) => {
      const { event } = transfers.eventFromBytes(bytes);
      switch (event.case) {
        case "requested":
          return {
            type: "requested",
            from: event.value.from,
            to: event.value.to,
            amount: toNumber(event.value.amount, "amount"),
          };
        case "declined":
          return { type: "declined", reason: event.value.reason };
        case "debited":
        case "credited":
          return { type: event.case };
        default:
          throw new Error("A transfer event without a case");
      }
    },
    stateToBytes: (state) =>
      transfers.stateToBytes(create(TransferStateSchema, {
        status: STATUS[state.status],
        from: state.from,
        to: state.to,
        amount: BigInt(state.amount),
        ...(state.reason === undefined ? {} : { reason: state.reason }),
      })),
    stateFromBytes: (bytes) => {
      const state = transfers.stateFromBytes(bytes);
      return {
        status: statusOf(state.status),
        from: state.from,
        to: state.to,
        amount: toNumber(state.amount, "amount"),
        ...(state.reason === undefined ? {} : { reason: state.reason }),
      };
    },
  };
}
