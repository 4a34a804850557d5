// A child process for tests/postgres_connection_test.ts: each mode needs a process of its own,
// either for a pool that is truly fresh or to see whether the process exits by itself. The one
// argument is a ConnectionWorkerConfig (JSON); the worker prints one record per line and never
// calls process.exit on success, so a handle left open keeps it alive (the test then kills it).
//   projection:  runs a projection on a fresh pool until it caught up; prints "starting",
//                "running", "caught-up <offset> <handled>"
//   terminate:   connect(), load, its backends terminated, close(); prints "closed <acks>"
//   invalid:     connect() with an invalid option; prints "rejected <error name>"

import process from "node:process";
import { writeSync } from "node:fs";
import postgres from "postgres";
import { jsonBinarize } from "../../mod.ts";
import { PostgresEventLog, PostgresOffsetStore } from "../../adapters/postgres/mod.ts";
import { Projection } from "../../projection/mod.ts";

/** What the parent passes. */
export interface ConnectionWorkerConfig {
  mode: "projection" | "terminate" | "invalid";
  url: string;
  typeName: string;
  /** projection: how the offset store's client is opened. */
  client?: "fetch-types" | "no-fetch-types" | "connect-log";
  /** invalid: the options given to connect() besides the URL. */
  options?: Record<string, unknown>;
}

const config = JSON.parse(process.argv[process.argv.length - 1]!) as ConnectionWorkerConfig;
const say = (line: string) => writeSync(1, `${line}\n`);

if (config.mode === "projection") {
  say("starting");
  const sql = postgres(config.url, {
    max: 4,
    onnotice: () => {},
    fetch_types: config.client !== "no-fetch-types",
  });
  const eventLog = config.client === "connect-log"
    ? await PostgresEventLog.connect({ url: config.url, max: 2 })
    : new PostgresEventLog(sql);
  let handled = 0;
  const projection = new Projection(config.typeName, {
    typeName: config.typeName,
    eventLog,
    binarize: jsonBinarize<unknown, unknown>(),
    offsetStore: new PostgresOffsetStore(sql),
    batchSize: 10,
    handleEvent: () => void handled++,
  });
  await projection.run();
  say("running");
  const caughtUp = await projection.whenCaughtUp();
  await projection.stop();
  say(`caught-up ${caughtUp.offset} ${handled}`);
  await eventLog.close();
  await sql.end({ timeout: 5 });
} else if (config.mode === "terminate") {
  const application = `terminate_${process.pid}`;
  const log = await PostgresEventLog.connect({
    url: config.url,
    max: 4,
    clientOptions: { connection: { application_name: application } },
  });
  const admin = postgres(config.url, { max: 1, onnotice: () => {} });
  const event = new TextEncoder().encode("{}");
  let acks = 0;
  let stop = false;
  const writers = Array.from({ length: 16 }, async (_, writer) => {
    const id = `w-${process.pid}-${writer}`;
    while (!stop) {
      try {
        await log.persist(config.typeName, id, await log.lastSeqNo(config.typeName, id), [event]);
        acks++;
      } catch { /* a write cut off by the termination */ }
    }
  });
  while (acks < 50) await new Promise((resolve) => setTimeout(resolve, 5));
  await admin`select pg_terminate_backend(pid) from pg_stat_activity
    where application_name = ${application}`;
  // Closes while the pool reconnects and writes are still in flight, as a shutdown would.
  await new Promise((resolve) => setTimeout(resolve, 20));
  stop = true;
  await admin.end({ timeout: 5 });
  await log.close();
  await Promise.all(writers);
  say(`closed ${acks}`);
} else {
  try {
    await PostgresEventLog.connect({ url: config.url, ...config.options });
    say("connected");
  } catch (error) {
    say(`rejected ${(error as Error).name} ${(error as Error).message}`);
  }
}
