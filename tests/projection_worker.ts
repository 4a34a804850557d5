// A projection in its own process, for the exactly-once test in projection_postgres_test.ts,
// which starts it with the runtime running the test and kills it with SIGKILL. Configured by
// the environment variable PROJECTION_WORKER (JSON, see WorkerConfig); reports on stdout:
//   running <offset>      the projection holds its name and starts after <offset>
//   handled <position>    an event was handled (its transaction is not yet committed)
//   hanging <position>    the handler of <position> wrote its rows and now waits forever
//   caught-up <offset>    everything written before was processed (then the worker exits)

import process from "node:process";
import postgres from "postgres";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { Projection } from "../projection/mod.ts";
import { PostgresOffsetStore } from "../adapters/postgres/mod.ts";
import { jsonBank } from "./projection_fixtures.ts";

/** What the parent test tells the worker. */
export interface WorkerConfig {
  url: string;
  typeName: string;
  name: string;
  /** The table of applications: (position, id, amount), one row per handled event. */
  applied: string;
  /** The table of balances: (id, cents). */
  balances: string;
  batchSize: number;
  /** Hang inside the handler of this position, after writing its rows. */
  hangAt?: number;
  /** Exit once caught up. */
  exitWhenCaughtUp?: boolean;
}

const config = JSON.parse(process.env.PROJECTION_WORKER ?? "null") as WorkerConfig | null;
if (config === null) throw new Error("Set PROJECTION_WORKER");

// Never outlive the test: it holds our stdin open.
process.stdin.on("end", () => process.exit(2));
process.stdin.resume();

const sql = postgres(config.url, { onnotice: () => {}, max: 4 });
const bank = jsonBank(config.typeName);
const projection = new Projection(config.name, {
  typeName: config.typeName,
  eventLog: new PostgresEventLog(sql),
  binarize: bank.binarize,
  offsetStore: new PostgresOffsetStore(sql, { lockPollMs: 50 }),
  batchSize: config.batchSize,
  onLocked: "wait",
  handleEvent: async ({ id, event, position }, { tx }) => {
    const amount = bank.change(event);
    await tx`insert into ${tx(config.applied)} (position, id, amount)
      values (${position}, ${id}, ${amount})`;
    await tx`insert into ${tx(config.balances)} (id, cents) values (${id}, ${amount})
      on conflict (id) do update set cents = ${tx(config.balances)}.cents + excluded.cents`;
    if (position === config.hangAt) {
      process.stdout.write(`hanging ${position}\n`);
      await new Promise(() => {});
    }
    process.stdout.write(`handled ${position}\n`);
  },
});

const state = await projection.run();
process.stdout.write(`running ${state.offset}\n`);
if (config.exitWhenCaughtUp) {
  const caughtUp = await projection.whenCaughtUp();
  process.stdout.write(`caught-up ${caughtUp.offset}\n`);
  await projection.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
}
