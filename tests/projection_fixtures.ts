// The bank account entity of the projection tests, with a JSON and a protobuf codec, and a load
// run that drives many accounts concurrently through `spawn` and returns their balances as the
// entities themselves report them.

import { create } from "@bufbuild/protobuf";
import {
  type Binarize,
  type Command,
  emitAndReply,
  type EventLog,
  type EventSourced,
  jsonBinarize,
  reject,
  reply,
  spawn,
} from "../mod.ts";
import { protobufBinarize } from "../protobuf/mod.ts";
import {
  type AccountEvent,
  AccountEventSchema,
  type AccountState,
  AccountStateSchema,
} from "../examples/proto/gen/bank_pb.ts";

/** An account entity with its codec, commands and the balance change of each event. */
export interface Bank<Event, State> {
  readonly entity: EventSourced<State, Event>;
  readonly binarize: Binarize<Event, State>;
  deposit(amount: number): Command<State, Event, number, "Insufficient">;
  withdraw(amount: number): Command<State, Event, number, "Insufficient">;
  readonly balance: Command<State, Event, number, never>;
  /** The signed change of the balance an event makes. */
  change(event: Event): number;
}

export type JsonAccountEvent = { type: "deposited"; amount: number } | {
  type: "withdrawn";
  amount: number;
};

/** Accounts with JSON events. */
export function jsonBank(typeName: string): Bank<JsonAccountEvent, number> {
  const change = (e: JsonAccountEvent) => e.type === "deposited" ? e.amount : -e.amount;
  return {
    entity: { typeName, initialState: 0, handleEvent: (state, event) => state + change(event) },
    binarize: jsonBinarize(),
    deposit: (amount) => ({
      handleCommand: (_id, _state) => emitAndReply({ type: "deposited", amount }, (s) => s),
    }),
    withdraw: (amount) => ({
      handleCommand: (_id, state) =>
        state < amount
          ? reject("Insufficient")
          : emitAndReply({ type: "withdrawn", amount }, (s) => s),
    }),
    balance: { handleCommand: (_id, state) => reply(state) },
    change,
  };
}

/** Accounts with protobuf events (examples/proto/bank.proto), as generated: bigint amounts. */
export function protobufBank(typeName: string): Bank<AccountEvent, AccountState> {
  const change = ({ event }: AccountEvent) =>
    event.case === "deposited"
      ? Number(event.value.amount)
      : event.case === "withdrawn"
      ? -Number(event.value.amount)
      : 0;
  const event = (kind: "deposited" | "withdrawn", amount: number) =>
    create(AccountEventSchema, {
      event: { case: kind, value: { amount: BigInt(amount), reference: `${kind}-${amount}` } },
    });
  return {
    entity: {
      typeName,
      initialState: create(AccountStateSchema),
      handleEvent: (state, e) =>
        create(AccountStateSchema, { ...state, balance: state.balance + BigInt(change(e)) }),
    },
    binarize: protobufBinarize(AccountEventSchema, AccountStateSchema, { eventOneof: "event" }),
    deposit: (amount) => ({
      handleCommand: () => emitAndReply(event("deposited", amount), (s) => Number(s.balance)),
    }),
    withdraw: (amount) => ({
      handleCommand: (_id, state) =>
        state.balance < BigInt(amount)
          ? reject("Insufficient")
          : emitAndReply(event("withdrawn", amount), (s) => Number(s.balance)),
    }),
    balance: { handleCommand: (_id, state) => reply(Number(state.balance)) },
    change,
  };
}

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  accounts: number;
  commandsPerAccount: number;
  /** Deterministic pseudo-random amounts. */
  seed?: number;
}

/**
 * Spawns `accounts` entities, sends each `commandsPerAccount` deposits and withdrawals (some
 * rejected), all accounts at once, and returns each account's balance as the entity reports
 * it, and how many events were persisted.
 */
export async function runLoad<Event, State>(
  bank: Bank<Event, State>,
  eventLog: EventLog,
  options: LoadOptions,
): Promise<{ balances: Map<string, number>; events: number }> {
  let seed = options.seed ?? 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const balances = new Map<string, number>();
  let events = 0;
  await Promise.all(
    Array.from({ length: options.accounts }, async (_, i) => {
      const id = `acc-${i}`;
      const plan = Array.from({ length: options.commandsPerAccount }, () => ({
        deposit: random() < 0.6,
        amount: 1 + Math.floor(random() * 100),
      }));
      const ref = await spawn(bank.entity, id, { eventLog, binarize: bank.binarize });
      try {
        for (const { deposit, amount } of plan) {
          const command = deposit ? bank.deposit(amount) : bank.withdraw(amount);
          const result = await ref.handleCommand(command);
          if (result.ok) events++;
        }
        const result = await ref.handleCommand(bank.balance);
        if (!result.ok) throw new Error("balance cannot fail");
        balances.set(id, result.value);
      } finally {
        await ref.stop();
      }
    }),
  );
  return { balances, events };
}
