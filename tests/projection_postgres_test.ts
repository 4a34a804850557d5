// Projections on a real PostgreSQL server: events in a PostgresEventLog, offsets and read
// model in the same database; one runner per name across processes; exactly-once across a
// SIGKILL of the process running the projection.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { jsonBinarize } from "../mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import { isProjectionError, Projection } from "../projection/mod.ts";
import { PostgresOffsetStore } from "../adapters/postgres/mod.ts";
import { hash32, offsetStatements } from "../adapters/_sql/sql_offset_store.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { jsonBank, runLoad } from "./projection_fixtures.ts";
import type { WorkerConfig } from "./projection_worker.ts";
import { startWorker as startProcess } from "./_projection_worker_process.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let eventLog: PostgresEventLog;
let offsetStore: PostgresOffsetStore;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  eventLog = new PostgresEventLog(sql);
  await eventLog.setup();
  offsetStore = new PostgresOffsetStore(sql, { lockPollMs: 50 });
  await offsetStore.setup();
});

after(async () => {
  await eventLog?.close();
  await sql?.end({ timeout: 5 });
  await server?.stop();
});

const tableName = (prefix: string) => `${prefix}_${uniqueTypeName("t").replaceAll("-", "_")}`;

async function balancesTable(): Promise<string> {
  const table = tableName("balances");
  await sql`create table ${sql(table)} (id text primary key, cents bigint not null)`;
  return table;
}

async function readBalances(table: string): Promise<Map<string, number>> {
  const rows = await sql<{ id: string; cents: string }[]>`select id, cents from ${sql(table)}`;
  return new Map(rows.map((r) => [r.id, Number(r.cents)]));
}

test("account balances in Postgres match the entities after a load", async () => {
  const bank = jsonBank(uniqueTypeName("account"));
  const table = await balancesTable();
  const projection = new Projection(`balances-${bank.entity.typeName}`, {
    typeName: bank.entity,
    eventLog,
    binarize: bank.binarize,
    offsetStore,
    batchSize: 100,
    handleEvent: async ({ id, event }, { tx }) => {
      await tx`insert into ${tx(table)} values (${id}, ${bank.change(event)})
        on conflict (id) do update set cents = ${tx(table)}.cents + excluded.cents`;
    },
  });
  await projection.run();
  const load = await runLoad(bank, eventLog, { accounts: 20, commandsPerAccount: 40 });
  await within(projection.whenCaughtUp(), 30_000, "whenCaughtUp");
  assert.deepEqual(await readBalances(table), load.balances);
  assert.equal(await offsetStore.load(projection.name), projection.state().offset);
  await projection.stop();
});

test("a handler failing after its writes is rolled back and retried: applied once", async () => {
  const typeName = uniqueTypeName();
  const binarize = jsonBinarize<number, number>();
  const table = tableName("applied");
  await sql`create table ${sql(table)} (position bigint not null, value int not null)`;
  for (const value of [1, 2, 3]) {
    await eventLog.persist(typeName, `e${value}`, null, [binarize.eventToBytes(value)]);
  }
  let failures = 0;
  const projection = new Projection("pg-retry", {
    typeName,
    eventLog,
    binarize,
    offsetStore,
    errorStrategy: { type: "retry", initialDelayMs: 1 },
    onError: () => {},
    handleEvent: async ({ position, event }, { tx }) => {
      await tx`insert into ${tx(table)} values (${position}, ${event})`;
      if (event === 2 && failures++ < 2) throw new Error("after the write");
    },
  });
  await projection.run();
  await projection.whenCaughtUp();
  const rows = await sql<{ value: number }[]>`select value from ${sql(table)} order by position`;
  assert.deepEqual(rows.map((r) => r.value), [1, 2, 3]);
  assert.equal(projection.state().lastError?.reason, "event-failed");
  await projection.stop();
});

test("one runner per name across clients: a second fails clearly, or waits and takes over", async () => {
  const typeName = uniqueTypeName();
  const binarize = jsonBinarize<number, number>();
  const otherSql = postgres(server.url, { onnotice: () => {} });
  try {
    const seen: number[] = [];
    const make = (client: postgres.Sql, onLocked: "fail" | "wait") =>
      new Projection("pg-exclusive", {
        typeName,
        eventLog,
        binarize,
        offsetStore: new PostgresOffsetStore(client, { lockPollMs: 20 }),
        onLocked,
        handleEvent: ({ event }) => void seen.push(event),
      });
    const first = make(sql, "fail");
    await first.run();
    await eventLog.persist(typeName, "a", null, [binarize.eventToBytes(1)]);
    await first.whenCaughtUp();

    const error = await make(otherSql, "fail").run().catch((e) => e);
    assert.ok(isProjectionError(error) && error.reason === "locked", String(error));
    assert.match(error.message, /another runner holds it \(advisory lock/);

    const waiting = make(otherSql, "wait");
    const started = waiting.run();
    await eventLog.persist(typeName, "a", 1, [binarize.eventToBytes(2)]);
    await first.whenCaughtUp();
    await first.stop();
    await within(started, 10_000, "the waiting runner");
    await eventLog.persist(typeName, "a", 2, [binarize.eventToBytes(3)]);
    await waiting.whenCaughtUp();
    assert.deepEqual(seen, [1, 2, 3]);
    await waiting.stop();
  } finally {
    await otherSql.end({ timeout: 5 });
  }
});

// --- Exactly-once across SIGKILL ---------------------------------------------------------

const startWorker = (config: WorkerConfig) => startProcess("projection_worker", config);

test("exactly-once on Postgres: the projection's process is killed mid-run and restarted", async () => {
  const bank = jsonBank(uniqueTypeName("account"));
  const applied = tableName("applied");
  const balances = await balancesTable();
  await sql`create table ${
    sql(applied)
  } (position bigint not null, id text not null, amount int not null)`;
  const load = await runLoad(bank, eventLog, { accounts: 20, commandsPerAccount: 60 });
  const total = load.events;
  const config: WorkerConfig = {
    url: server.url,
    typeName: bank.entity.typeName,
    name: `pg-kill-${bank.entity.typeName}`,
    applied,
    balances,
    batchSize: 10,
  };
  const appliedPositions = async () =>
    (await sql<{ position: string }[]>`select position from ${sql(applied)} order by position`)
      .map((r) => Number(r.position));

  // 1. Killed inside a transaction: the handler of `hangAt` wrote its rows and waits.
  const hangAt = Math.floor(total / 3 / 10) * 10 + 5;
  const first = startWorker({ ...config, hangAt });
  try {
    await within(first.waitFor(new RegExp(`^hanging ${hangAt}$`)), 60_000, "first worker");
    // The worker holds the name: this process cannot run the projection meanwhile.
    const intruder = new Projection(config.name, {
      typeName: config.typeName,
      eventLog,
      binarize: bank.binarize,
      offsetStore,
      handleEvent: () => {},
    });
    const locked = await intruder.run().catch((e) => e);
    assert.ok(isProjectionError(locked) && locked.reason === "locked", String(locked));
  } finally {
    await first.kill();
  }
  const offsetAfterKill = await offsetStore.load(config.name);
  assert.ok(offsetAfterKill < hangAt && offsetAfterKill >= hangAt - 10, `${offsetAfterKill}`);
  // Nothing of the killed transaction survived; what was committed was applied once.
  const committed = await appliedPositions();
  assert.deepEqual(committed, Array.from({ length: offsetAfterKill }, (_, i) => i + 1));

  // 2. Restarted, and killed again at an arbitrary point while it works through the rest.
  const second = startWorker(config);
  try {
    await within(
      second.waitFor(new RegExp(`^handled ${offsetAfterKill + 100}$`)),
      60_000,
      "second worker",
    );
  } finally {
    await second.kill();
  }
  const offsetAfterSecondKill = await offsetStore.load(config.name);
  assert.ok(offsetAfterSecondKill > offsetAfterKill);

  // 3. Restarted once more, to the end.
  const third = startWorker({ ...config, exitWhenCaughtUp: true });
  const [, caughtUp] = await within(third.waitFor(/^caught-up (\d+)$/), 60_000, "third worker");
  assert.equal(await within(third.exited, 30_000, "third worker exit"), 0);
  assert.equal(Number(caughtUp), total);

  assert.deepEqual(await appliedPositions(), Array.from({ length: total }, (_, i) => i + 1));
  assert.deepEqual(await readBalances(balances), load.balances);
  assert.equal(await offsetStore.load(config.name), total);
});

test("PostgresOffsetStore refuses a pool of one connection and bad table names", async () => {
  const single = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    assert.throws(() => new PostgresOffsetStore(single), /needs at least 2/);
  } finally {
    await single.end({ timeout: 5 });
  }
  assert.throws(() => new PostgresOffsetStore(sql, { schema: "Bad-Schema" }), /Invalid schema/);
  assert.throws(() => new PostgresOffsetStore(sql, { tablePrefix: "x;" }), /Invalid tablePrefix/);
});

test("PostgresOffsetStore keeps offsets in the schema and table prefix it is given", async () => {
  const store = new PostgresOffsetStore(sql, { schema: "projections", tablePrefix: "app_" });
  await store.setup();
  await store.setup();
  const lease = await store.acquire("elsewhere");
  await lease.commit({ from: 0, to: 7 }, async (tx) => void await tx`select 1`);
  await lease.release();
  const [row] = await sql`select position from projections.app_projection_offsets
    where name = 'elsewhere'`;
  assert.equal(Number(row!.position), 7);
  assert.equal(await offsetStore.load("elsewhere"), 0);
});

test("a runner whose lock connection died cannot commit, even before another takes the name", async () => {
  const typeName = uniqueTypeName();
  const binarize = jsonBinarize<number, number>();
  const table = tableName("applied");
  await sql`create table ${sql(table)} (position bigint not null, value int not null)`;
  const projection = new Projection("pg-lost-lock", {
    typeName,
    eventLog,
    binarize,
    offsetStore,
    onError: () => {},
    handleEvent: async ({ position, event }, { tx }) => {
      await tx`insert into ${tx(table)} values (${position}, ${event})`;
    },
  });
  await eventLog.persist(typeName, "a", null, [binarize.eventToBytes(1)]);
  await projection.run();
  await projection.whenCaughtUp();
  // End the session that holds the projection's advisory lock, as a network failure would.
  const { lockSpace } = offsetStatements(sqlNames());
  const terminated = await sql`select pg_terminate_backend(pid) as done from pg_locks
    where locktype = 'advisory' and classid = ${lockSpace >>> 0}::oid
      and objid = ${hash32("pg-lost-lock") >>> 0}::oid and objsubid = 2`;
  assert.equal(terminated.length, 1);
  await eventLog.persist(typeName, "a", 1, [binarize.eventToBytes(2)]);
  const state = await within(projection.whenStopped(), 10_000, "whenStopped");
  assert.equal(state.lastError?.reason, "offset-conflict");
  assert.match(String(state.lastError?.message), /lost its lock/);
  const rows = await sql<{ value: number }[]>`select value from ${sql(table)} order by position`;
  assert.deepEqual(rows.map((r) => r.value), [1]);
  // The name is free again: a new run takes it and goes on.
  await projection.run();
  await projection.whenCaughtUp();
  const after = await sql<{ value: number }[]>`select value from ${sql(table)} order by position`;
  assert.deepEqual(after.map((r) => r.value), [1, 2]);
  await projection.stop();
});

test("a commit whose signal aborts while its work runs stores nothing: neither the writes nor the offset", async () => {
  const table = `signal_${uniqueTypeName("t").replaceAll("-", "_")}`;
  await sql.unsafe(`create table ${table} (n int not null)`);
  const lease = await offsetStore.acquire(uniqueTypeName("signal"));
  try {
    const controller = new AbortController();
    const error = await lease.commit({ from: 0, to: 1 }, async (tx) => {
      await tx.unsafe(`insert into ${table} values (1)`);
      controller.abort(new Error("stopping"));
    }, { signal: controller.signal }).catch((e) => e);
    assert.equal((error as Error).message, "stopping");
    assert.equal((await sql.unsafe(`select * from ${table}`)).length, 0);
    assert.equal(await lease.load(), 0);
    await lease.commit({ from: 0, to: 1 }, async (tx) => {
      await tx.unsafe(`insert into ${table} values (1)`);
    });
    assert.equal(await lease.load(), 1);
    assert.equal((await sql.unsafe(`select * from ${table}`)).length, 1);
  } finally {
    await lease.release();
  }
});
