// The demo's read model: per account, its balance, the transfers it sent and received, and
// when it last had activity, from the events of two entity types (accounts and transfers) by
// one projection over both. Each type's events come in order, but not the two types together:
// a transfer's parties are taken from its own "requested" event (same type, so seen first),
// never from an account event.

import type { Binarize, EventLog } from "../../mod.ts";
import { MultiTypeProjection, type OffsetStore } from "../../projection/mod.ts";
import type { AccountEvent } from "./account.ts";
import type { TransferEvent } from "./transfer.ts";

/** One account's row of the read model. */
export interface AccountActivity {
  readonly account: string;
  /** In cents. */
  readonly balance: number;
  /** Completed transfers to the account. */
  readonly transfersIn: number;
  /** Completed transfers from the account. */
  readonly transfersOut: number;
  /** When the last event about the account was written, in ms since the epoch. */
  readonly lastActivity: number;
}

/** A change to one account's row: added to what is there. */
export interface ActivityChange {
  readonly balance: number;
  readonly transfersIn: number;
  readonly transfersOut: number;
  readonly at: number;
}

/** Where the read model lives; `Tx` is the offset store's unit of work. */
export interface ActivityTables<Tx> {
  setup(): Promise<void>;
  rememberTransfer(tx: Tx, id: string, from: string, to: string): Promise<void>;
  partiesOf(tx: Tx, id: string): Promise<{ from: string; to: string } | undefined>;
  add(tx: Tx, account: string, change: ActivityChange): Promise<void>;
  /** Every account's row, by account. */
  list(): Promise<AccountActivity[]>;
}

/** The read model's storage with the offset store whose unit of work its writes join. */
export interface ActivityStorage<Tx = unknown> {
  readonly tables: ActivityTables<Tx>;
  readonly offsetStore: OffsetStore<Tx>;
  /** "exactly once" (same transaction as the offsets) or "at least once". */
  readonly delivery: string;
}

type Events = { account: AccountEvent; transfer: TransferEvent };

/** The projection "bank-activity" over accounts and transfers into `storage`. */
export function activityProjection<Tx>(
  storage: ActivityStorage<Tx>,
  eventLog: EventLog,
  codecs: { account: Binarize<AccountEvent, unknown>; transfer: Binarize<TransferEvent, unknown> },
): MultiTypeProjection<Events, Tx> {
  const { tables } = storage;
  const none = { balance: 0, transfersIn: 0, transfersOut: 0 };
  return new MultiTypeProjection<Events, Tx>("bank-activity", {
    types: codecs,
    eventLog,
    offsetStore: storage.offsetStore,
    handleEvent: async (envelope, { tx }) => {
      const at = envelope.writtenAt;
      if (envelope.typeName === "account") {
        const { type, amount } = envelope.event;
        const balance = type === "deposited" ? amount : -amount;
        await tables.add(tx, envelope.id, { ...none, balance, at });
        return;
      }
      const event = envelope.event;
      if (event.type === "requested") {
        await tables.rememberTransfer(tx, envelope.id, event.from, event.to);
      } else if (event.type === "credited") {
        const parties = await tables.partiesOf(tx, envelope.id);
        if (parties === undefined) throw new Error(`Transfer ${envelope.id} was never requested`);
        await tables.add(tx, parties.from, { ...none, transfersOut: 1, at });
        await tables.add(tx, parties.to, { ...none, transfersIn: 1, at });
      }
    },
  });
}

/** The read model in memory, for `--memory` (at least once: nothing is kept anyway). */
export function memoryActivityTables(): ActivityTables<undefined> {
  const rows = new Map<string, AccountActivity>();
  const transfers = new Map<string, { from: string; to: string }>();
  return {
    setup: () => Promise.resolve(),
    rememberTransfer: (_tx, id, from, to) => Promise.resolve(void transfers.set(id, { from, to })),
    partiesOf: (_tx, id) => Promise.resolve(transfers.get(id)),
    add: (_tx, account, change) => {
      const row = rows.get(account) ??
        { account, balance: 0, transfersIn: 0, transfersOut: 0, lastActivity: 0 };
      rows.set(account, {
        account,
        balance: row.balance + change.balance,
        transfersIn: row.transfersIn + change.transfersIn,
        transfersOut: row.transfersOut + change.transfersOut,
        lastActivity: Math.max(row.lastActivity, change.at),
      });
      return Promise.resolve();
    },
    list: () => Promise.resolve([...rows.values()].sort((a, b) => a.account < b.account ? -1 : 1)),
  };
}

/**
 * The read model in two tables of the event log's database, written with `query` in the
 * offset store's transaction (`tx`), or outside any for `setup` and `list` (`tx` undefined).
 */
export function sqlActivityTables<Tx>(
  prefix: string,
  query: (
    tx: Tx | undefined,
    text: string,
    params: unknown[],
  ) => Promise<Record<string, unknown>[]>,
): ActivityTables<Tx> {
  const accounts = `${prefix}activity`;
  const transfers = `${prefix}activity_transfers`;
  return {
    async setup() {
      await query(
        undefined,
        `create table if not exists ${accounts} (account text primary key,
          balance bigint not null, transfers_in integer not null,
          transfers_out integer not null, last_activity timestamptz not null)`,
        [],
      );
      await query(
        undefined,
        `create table if not exists ${transfers} (id text primary key, from_account text not null,
          to_account text not null)`,
        [],
      );
    },
    async rememberTransfer(tx, id, from, to) {
      await query(
        tx,
        `insert into ${transfers} values ($1, $2, $3) on conflict (id) do nothing`,
        [id, from, to],
      );
    },
    async partiesOf(tx, id) {
      const [row] = await query(
        tx,
        `select from_account, to_account from ${transfers} where id = $1`,
        [id],
      );
      return row && { from: String(row.from_account), to: String(row.to_account) };
    },
    async add(tx, account, change) {
      await query(
        tx,
        `insert into ${accounts} as a values ($1, $2, $3, $4, to_timestamp($5::float8 / 1000))
        on conflict (account) do update set balance = a.balance + excluded.balance,
          transfers_in = a.transfers_in + excluded.transfers_in,
          transfers_out = a.transfers_out + excluded.transfers_out,
          last_activity = greatest(a.last_activity, excluded.last_activity)`,
        [account, change.balance, change.transfersIn, change.transfersOut, change.at],
      );
    },
    async list() {
      const rows = await query(
        undefined,
        `select account, balance::float8 as balance, transfers_in, transfers_out,
          (extract(epoch from last_activity) * 1000)::float8 as last_activity
        from ${accounts} order by account collate "C"`,
        [],
      );
      return rows.map((row) => ({
        account: String(row.account),
        balance: Number(row.balance),
        transfersIn: Number(row.transfers_in),
        transfersOut: Number(row.transfers_out),
        lastActivity: Math.round(Number(row.last_activity)),
      }));
    },
  };
}
