// Recovery after every backend of a client was terminated under load: 40 writers append in a
// loop over a pool of 10 connections; after a second the test terminates all of the pool's
// backends (`pg_terminate_backend`) and measures how long until every writer has completed a
// write again. Once with the raw driver (postgres.js inserting rows, the pool opened as
// `connect()` would open it without this package), once with `PostgresEventLog.connect()`.
//
//   deno run -A bench/pg_recovery.ts --runs 5
//
// Starts its own PostgreSQL (tests/_servers/postgres.ts), or uses PG_URL.

import process from "node:process";
import postgres from "postgres";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { startPostgres } from "../tests/_servers/postgres.ts";
import { intFlag, parseArgs } from "./_args.ts";
import { median, runtimeName } from "./_stats.ts";

const WRITERS = 40;
const POOL = 10;
const GIVE_UP_MS = 30_000;

interface Target {
  write(writer: number): Promise<void>;
  close(): Promise<void>;
}

async function rawTarget(url: string, app: string): Promise<Target> {
  const sql = postgres(url, {
    max: POOL,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: app },
  });
  await sql`create table if not exists recovery_rows (writer int, at timestamptz default now())`;
  return {
    write: async (writer) => void await sql`insert into recovery_rows (writer) values (${writer})`,
    close: () => sql.end({ timeout: 5 }),
  };
}

async function logTarget(url: string, app: string): Promise<Target> {
  const log = await PostgresEventLog.connect({
    url,
    max: POOL,
    clientOptions: { connection: { application_name: app } },
  });
  await log.setup();
  const seqNos = new Map<number, number | null>();
  const event = new TextEncoder().encode('{"n":1}');
  return {
    async write(writer) {
      const id = `${app}-${writer}`;
      if (!seqNos.has(writer)) seqNos.set(writer, await log.lastSeqNo("recovery", id));
      try {
        seqNos.set(writer, await log.persist("recovery", id, seqNos.get(writer)!, [event]));
      } catch (error) {
        seqNos.delete(writer); // re-read: an unknown outcome may have landed
        throw error;
      }
    },
    close: () => log.close(),
  };
}

/** Milliseconds from the termination until every writer has written again. */
async function measure(url: string, open: typeof rawTarget, app: string): Promise<number> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const target = await open(url, app);
  let terminatedAt = Infinity;
  const recoveredAt: number[] = [];
  let stop = false;
  const writers = Array.from({ length: WRITERS }, async (_, writer) => {
    while (!stop) {
      const started = performance.now();
      try {
        await target.write(writer);
        if (started > terminatedAt && recoveredAt[writer] === undefined) {
          recoveredAt[writer] = performance.now();
        }
      } catch { /* counted by the recovery time */ }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await admin`select pg_terminate_backend(pid) from pg_stat_activity
    where application_name = ${app}`;
  terminatedAt = performance.now();
  while (
    recoveredAt.filter((at) => at !== undefined).length < WRITERS &&
    performance.now() - terminatedAt < GIVE_UP_MS
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const recovered = recoveredAt.filter((at) => at !== undefined).length === WRITERS
    ? Math.max(...recoveredAt) - terminatedAt
    : Infinity;
  stop = true;
  await Promise.race([
    Promise.all(writers),
    new Promise((resolve) => setTimeout(resolve, GIVE_UP_MS)),
  ]);
  await target.close();
  await admin.end();
  return recovered;
}

const flags = parseArgs();
const runs = intFlag(flags, "runs", 5);
const server = await startPostgres({ fsync: false });
try {
  const raw: number[] = [];
  const ours: number[] = [];
  for (let run = 0; run < runs; run++) {
    raw.push(await measure(server.url, rawTarget, `raw_${run}`));
    ours.push(await measure(server.url, logTarget, `log_${run}`));
    console.log(
      `run ${run + 1}: raw driver ${fmt(raw.at(-1)!)}, PostgresEventLog ${fmt(ours.at(-1)!)}`,
    );
  }
  console.log(
    `${runtimeName()}: median time until all ${WRITERS} writers write again, ${runs} runs: ` +
      `raw driver ${fmt(median(raw))}, PostgresEventLog.connect ${fmt(median(ours))}`,
  );
} finally {
  await server.stop();
}
process.exit(0);

function fmt(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms)} ms` : `> ${GIVE_UP_MS / 1000} s`;
}
