// A projection over two types (accounts and transfers) in its own process, for the exactly-once
// test across SIGKILL in projection_types_sql_test.ts, which starts it with the runtime running
// the test and kills it with SIGKILL. Configured by the environment variable PROJECTION_WORKER
// (JSON, see TypesWorkerConfig); reports on stdout:
//   running <offsets>            the projection holds its name; its offsets per type, as JSON
//   handled <type> <position>    an event was handled (its transaction is not yet committed)
//   hanging <type> <position>    the handler wrote its rows and now waits forever
//   caught-up <offsets>          everything written before was processed (then the worker exits)

import process from "node:process";
import postgres from "postgres";
import { PostgresEventLog, PostgresOffsetStore } from "../adapters/postgres/mod.ts";
import { MultiTypeProjection } from "../projection/mod.ts";
import { jsonBinarize } from "../mod.ts";
import { jsonBank } from "./projection_fixtures.ts";

/** A transfer between two accounts. */
export interface TransferEvent {
  from: string;
  to: string;
  amount: number;
}

/** What the parent test tells the worker. */
export interface TypesWorkerConfig {
  url: string;
  accountType: string;
  transferType: string;
  name: string;
  /** The table of applications: (type_name, position, id, amount), one row per change. */
  applied: string;
  /** The table of balances: (id, cents). */
  balances: string;
  batchSize: number;
  /** Hang inside the handler of this event, after writing its rows. */
  hangAt?: { typeName: string; position: number };
  /** Exit once caught up. */
  exitWhenCaughtUp?: boolean;
}

const config = JSON.parse(process.env.PROJECTION_WORKER ?? "null") as TypesWorkerConfig | null;
if (config === null) throw new Error("Set PROJECTION_WORKER");

// Never outlive the test: it holds our stdin open.
process.stdin.on("end", () => process.exit(2));
process.stdin.resume();

const sql = postgres(config.url, { onnotice: () => {}, max: 4 });
const bank = jsonBank(config.accountType);
const types = { account: bank.binarize, transfer: jsonBinarize<TransferEvent, unknown>() };
const projection = new MultiTypeProjection(config.name, {
  types: { [config.accountType]: types.account, [config.transferType]: types.transfer },
  eventLog: new PostgresEventLog(sql),
  offsetStore: new PostgresOffsetStore(sql, { lockPollMs: 50 }),
  batchSize: config.batchSize,
  onLocked: "wait",
  handleEvent: async ({ typeName, id, event, position }, { tx }) => {
    const changes: [string, number][] = typeName === config.accountType
      ? [[id, bank.change(event as Parameters<typeof bank.change>[0])]]
      : [
        [(event as TransferEvent).from, -(event as TransferEvent).amount],
        [(event as TransferEvent).to, (event as TransferEvent).amount],
      ];
    for (const [account, amount] of changes) {
      await tx`insert into ${tx(config.applied)} (type_name, position, id, amount)
        values (${typeName}, ${position}, ${account}, ${amount})`;
      await tx`insert into ${tx(config.balances)} (id, cents) values (${account}, ${amount})
        on conflict (id) do update set cents = ${tx(config.balances)}.cents + excluded.cents`;
    }
    if (typeName === config.hangAt?.typeName && position === config.hangAt.position) {
      process.stdout.write(`hanging ${typeName} ${position}\n`);
      await new Promise(() => {});
    }
    process.stdout.write(`handled ${typeName} ${position}\n`);
  },
});

const state = await projection.run();
process.stdout.write(`running ${JSON.stringify(state.offsets)}\n`);
if (config.exitWhenCaughtUp) {
  const caughtUp = await projection.whenCaughtUp();
  process.stdout.write(`caught-up ${JSON.stringify(caughtUp.offsets)}\n`);
  await projection.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
}
