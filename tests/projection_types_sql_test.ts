// Projections over several types on PGlite and a real PostgreSQL server: the read model and the
// offsets per type commit in one transaction (a failing handler or a stale offset stores
// nothing), the lock fence applies to them on PostgreSQL, and a worker projecting accounts and
// transfers into one read model counts every event exactly once across repeated SIGKILLs.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { jsonBinarize } from "../mod.ts";
import { PgliteEventLog, PgliteOffsetStore } from "../adapters/pglite/mod.ts";
import { PostgresEventLog, PostgresOffsetStore } from "../adapters/postgres/mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import {
  isProjectionError,
  MultiTypeProjection,
  type OffsetStore,
  Projection,
} from "../projection/mod.ts";
import { hash32, offsetStatements } from "../adapters/_sql/sql_offset_store.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { jsonBank, runLoad } from "./projection_fixtures.ts";
import type { TransferEvent, TypesWorkerConfig } from "./projection_types_worker.ts";
import { startWorker } from "./_projection_worker_process.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let pgLog: PostgresEventLog;
let pgOffsets: PostgresOffsetStore;
let db: PGlite;
let pgliteLog: PgliteEventLog;
let pgliteOffsets: PgliteOffsetStore;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  pgLog = new PostgresEventLog(sql);
  await pgLog.setup();
  pgOffsets = new PostgresOffsetStore(sql, { lockPollMs: 50 });
  db = await PGlite.create();
  pgliteLog = new PgliteEventLog(db);
  await pgliteLog.setup();
  pgliteOffsets = new PgliteOffsetStore(db);
});

after(async () => {
  await pgLog?.close();
  await sql?.end({ timeout: 5 });
  await server?.stop();
  await pgliteLog?.close();
  await db?.close();
});

const binarize = jsonBinarize<number, number>();
const tableName = (prefix: string) => `${prefix}_${uniqueTypeName("t").replaceAll("-", "_")}`;

/** A backend: its log, offset store, and SQL run outside or inside a unit of work. */
interface Backend<Tx> {
  readonly label: string;
  readonly eventLog: PostgresEventLog | PgliteEventLog;
  readonly offsetStore: OffsetStore<Tx>;
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  inTx(tx: Tx, text: string, params: unknown[]): Promise<void>;
}

const postgresBackend = (): Backend<postgres.TransactionSql> => ({
  label: "PostgreSQL",
  eventLog: pgLog,
  offsetStore: pgOffsets,
  query: async (text, params = []) => [...await sql.unsafe(text, params as never[])],
  inTx: async (tx, text, params) => void await tx.unsafe(text, params as never[]),
});

const pgliteBackend = (): Backend<Transaction> => ({
  label: "PGlite",
  eventLog: pgliteLog,
  offsetStore: pgliteOffsets,
  query: async (text, params = []) => (await db.query<Record<string, unknown>>(text, params)).rows,
  inTx: async (tx, text, params) => void await tx.query(text, params),
});

const backends = [postgresBackend, pgliteBackend] as (() => Backend<unknown>)[];

async function write(backend: Backend<unknown>, typeName: string, values: number[]) {
  for (const [i, value] of values.entries()) {
    const last = await backend.eventLog.lastSeqNo(typeName, `e${i}`);
    await backend.eventLog.persist(typeName, `e${i}`, last, [binarize.eventToBytes(value)]);
  }
}

async function appliedRows(backend: Backend<unknown>, table: string): Promise<string[]> {
  const rows = await backend.query(
    `select type_name, position, value from ${table} order by type_name, position`,
  );
  return rows.map((r) => `${r.type_name}:${r.position}=${r.value}`);
}

for (const makeBackend of backends) {
  test(`the read model and the offsets per type commit together (${makeBackend().label})`, async () => {
    const backend = makeBackend();
    const [a, b] = [uniqueTypeName("account"), uniqueTypeName("transfer")];
    const table = tableName("applied");
    await backend.query(
      `create table ${table} (type_name text, position bigint, value int, primary key (type_name, position))`,
    );
    await write(backend, a, [10, 20, 30]);
    await write(backend, b, [1, 2]);
    const name = `types-${a}`;
    const projection = new MultiTypeProjection(name, {
      types: { [a]: binarize, [b]: binarize },
      eventLog: backend.eventLog,
      offsetStore: backend.offsetStore,
      batchSize: 10,
      handleEvent: async ({ typeName, position, event }, { tx }) => {
        await backend.inTx(tx, `insert into ${table} values ($1, $2, $3)`, [
          typeName,
          position,
          event,
        ]);
      },
    });
    await projection.run();
    const state = await within(projection.whenCaughtUp(), 20_000, "whenCaughtUp");
    assert.deepEqual(state.offsets, { [a]: 3, [b]: 2 });
    assert.deepEqual(
      await appliedRows(backend, table),
      [
        `${a}:1=10`,
        `${a}:2=20`,
        `${a}:3=30`,
        `${b}:1=1`,
        `${b}:2=2`,
      ].sort(),
    );
    await projection.stop();
    const stored = await backend.offsetStore.loadTypes!(name, [a, b]);
    assert.deepEqual(stored, new Map([[a, 3], [b, 2]]));
    // Offsets per type live in type_offsets; the name's single offset stays 0.
    const rows = await backend.query(
      `select type_name, position from ${sqlNames().typeOffsets} where name = $1`,
      [name],
    );
    assert.deepEqual(
      rows.map((r) => `${r.type_name} ${r.position}`).sort(),
      [`${a} 3`, `${b} 2`].sort(),
    );
    assert.equal(await backend.offsetStore.load(name), 0);
  });

  test(`a handler failing after its writes stores nothing of its batch (${makeBackend().label})`, async () => {
    const backend = makeBackend();
    const [a, b] = [uniqueTypeName("account"), uniqueTypeName("transfer")];
    const table = tableName("applied");
    await backend.query(
      `create table ${table} (type_name text, position bigint, value int, primary key (type_name, position))`,
    );
    await write(backend, a, [1, 2]);
    await write(backend, b, [1, -1, 3]);
    const name = `failing-${a}`;
    const projection = new MultiTypeProjection(name, {
      types: { [a]: binarize, [b]: binarize },
      eventLog: backend.eventLog,
      offsetStore: backend.offsetStore,
      errorStrategy: { type: "stop" },
      onError: () => {},
      handleEvent: async ({ typeName, position, event }, { tx }) => {
        await backend.inTx(tx, `insert into ${table} values ($1, $2, $3)`, [
          typeName,
          position,
          event,
        ]);
        if (event < 0) throw new RangeError(`negative: ${event}`);
      },
    });
    await projection.run();
    const state = await within(projection.whenStopped(), 20_000, "whenStopped");
    assert.equal(state.lastError?.reason, "event-failed");
    const stored = await backend.offsetStore.loadTypes!(name, [a, b]);
    assert.equal(stored.get(b), 1);
    // Every row written matches a stored offset: nothing of the failed event survived.
    const rows = await appliedRows(backend, table);
    const expected = [
      ...Array.from({ length: stored.get(a)! }, (_, i) => `${a}:${i + 1}=${i + 1}`),
      `${b}:1=1`,
    ].sort();
    assert.deepEqual(rows, expected);
  });

  test(`a stale commitTypes runs no work and stores nothing (${makeBackend().label})`, async () => {
    const backend = makeBackend();
    const name = `stale-${uniqueTypeName()}`;
    const lease = await backend.offsetStore.acquire(name);
    try {
      await lease.commitTypes!(
        new Map([["a", { from: 0, to: 4 }], ["b", { from: 0, to: 2 }]]),
        async () => {},
      );
      let worked = false;
      const stale = await lease.commitTypes!(
        new Map([["a", { from: 4, to: 5 }], ["b", { from: 1, to: 3 }]]),
        () => Promise.resolve(void (worked = true)),
      ).catch((e) => e);
      assert.ok(isProjectionError(stale) && stale.reason === "offset-conflict", String(stale));
      assert.match(stale.message, /expected the stored offsets to be "a" 4, "b" 1/);
      assert.equal(worked, false);
      assert.deepEqual(
        await lease.loadTypes!(["a", "b", "c"]),
        new Map([["a", 4], ["b", 2], ["c", 0]]),
      );
      await assert.rejects(
        lease.commitTypes!(new Map([["a", { from: 4, to: 1.5 }]]), async () => {}),
        /to 1.5, expected an integer ≥ 0/,
      );
      await assert.rejects(backend.offsetStore.loadTypes!(name, ["bad name"]), /Invalid typeName/);
    } finally {
      await lease.release();
    }
  });
}

test("PostgreSQL: a runner whose lock connection died cannot commit offsets per type", async () => {
  const [a, b] = [uniqueTypeName("account"), uniqueTypeName("transfer")];
  const table = tableName("applied");
  await sql`create table ${sql(table)} (type_name text, position bigint not null, value int)`;
  const name = `pg-lost-${a}`;
  const projection = new MultiTypeProjection(name, {
    types: { [a]: binarize, [b]: binarize },
    eventLog: pgLog,
    offsetStore: pgOffsets,
    onError: () => {},
    handleEvent: async ({ typeName, position, event }, { tx }) => {
      await tx`insert into ${tx(table)} values (${typeName}, ${position}, ${event})`;
    },
  });
  await pgLog.persist(a, "x", null, [binarize.eventToBytes(1)]);
  await projection.run();
  await within(projection.whenCaughtUp(), 10_000, "whenCaughtUp");
  const { lockSpace } = offsetStatements(sqlNames());
  const terminated = await sql`select pg_terminate_backend(pid) as done from pg_locks
    where locktype = 'advisory' and classid = ${lockSpace >>> 0}::oid
      and objid = ${hash32(name) >>> 0}::oid and objsubid = 2`;
  assert.equal(terminated.length, 1);
  await pgLog.persist(b, "y", null, [binarize.eventToBytes(2)]);
  const state = await within(projection.whenStopped(), 10_000, "whenStopped");
  assert.equal(state.lastError?.reason, "offset-conflict");
  assert.match(String(state.lastError?.message), /lost its lock/);
  const rows = await sql<{ value: number }[]>`select value from ${sql(table)} order by value`;
  assert.deepEqual(rows.map((r) => r.value), [1]);
  assert.deepEqual(await pgOffsets.loadTypes(name, [a, b]), new Map([[a, 1], [b, 0]]));
});

// --- Exactly-once across SIGKILL ---------------------------------------------------------

test("exactly-once on PostgreSQL over two types: the worker is killed mid-batch again and again", async () => {
  const bank = jsonBank(uniqueTypeName("account"));
  const transferType = uniqueTypeName("transfer");
  const applied = tableName("applied");
  const balances = tableName("balances");
  await sql`create table ${sql(balances)} (id text primary key, cents bigint not null)`;
  await sql`create table ${sql(applied)} (type_name text not null, position bigint not null,
    id text not null, amount int not null)`;
  const load = await runLoad(bank, pgLog, { accounts: 10, commandsPerAccount: 40 });
  // Transfers between the accounts, one entity each.
  const transferCodec = jsonBinarize<TransferEvent, unknown>();
  const expected = new Map(load.balances);
  const transfers = 300;
  for (let i = 0; i < transfers; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, k) => {
      const n = i + k;
      const transfer = { from: `acc-${n % 10}`, to: `acc-${(n * 3 + 1) % 10}`, amount: 1 + n % 7 };
      expected.set(transfer.from, expected.get(transfer.from)! - transfer.amount);
      expected.set(transfer.to, expected.get(transfer.to)! + transfer.amount);
      return pgLog.persist(transferType, `t${n}`, null, [transferCodec.eventToBytes(transfer)]);
    }));
  }
  const totals = { [bank.entity.typeName]: load.events, [transferType]: transfers };
  const typeNames = [bank.entity.typeName, transferType];
  const config: TypesWorkerConfig = {
    url: server.url,
    accountType: bank.entity.typeName,
    transferType,
    name: `pg-kill-types-${bank.entity.typeName}`,
    applied,
    balances,
    batchSize: 10,
  };
  const start = (extra: Partial<TypesWorkerConfig> = {}) =>
    startWorker("projection_types_worker", { ...config, ...extra });
  const offsets = async () => await pgOffsets.loadTypes(config.name, typeNames);
  // Every committed row belongs to an event at or below its type's stored offset, each once:
  // per type, the positions applied are exactly 1..offset (a transfer applies two rows).
  const assertExactlyOnce = async () => {
    const stored = await offsets();
    for (const typeName of typeNames) {
      const rows = await sql<{ position: string }[]>`select distinct position from ${
        sql(applied)
      } where type_name = ${typeName} order by position`;
      const offset = stored.get(typeName)!;
      assert.deepEqual(
        rows.map((r) => Number(r.position)),
        Array.from({ length: offset }, (_, i) => i + 1),
        `${typeName} at offset ${offset}`,
      );
      const [count] = await sql<{ n: string }[]>`select count(*) as n from ${sql(applied)}
        where type_name = ${typeName}`;
      assert.equal(Number(count!.n), typeName === transferType ? 2 * offset : offset);
    }
    return stored;
  };

  // 1. Killed inside a transaction: the handler of an account event half-way wrote its rows
  // and waits.
  const hangAt = Math.floor(load.events / 20) * 10 + 5;
  const first = start({ hangAt: { typeName: bank.entity.typeName, position: hangAt } });
  try {
    await within(
      first.waitFor(new RegExp(`^hanging ${bank.entity.typeName} ${hangAt}$`)),
      60_000,
      "first worker",
    );
    // The worker holds the name: a single-type projection of it cannot run meanwhile.
    const intruder = new Projection(config.name, {
      typeName: transferType,
      eventLog: pgLog,
      binarize: transferCodec,
      offsetStore: pgOffsets,
      handleEvent: () => {},
    });
    const locked = await intruder.run().catch((e) => e);
    assert.ok(isProjectionError(locked) && locked.reason === "locked", String(locked));
  } finally {
    await first.kill();
  }
  let stored = await assertExactlyOnce();
  assert.ok(stored.get(bank.entity.typeName)! < hangAt, `${stored.get(bank.entity.typeName)}`);

  // 2. Restarted and killed at arbitrary points, twice, while it works through the rest (the
  // transfers' events are handled by then, since no order holds across types).
  for (const round of [1, 2]) {
    const from = stored.get(transferType)!;
    assert.ok(from + 40 < transfers, `round ${round}: ${from} of ${transfers}`);
    const worker = start();
    try {
      await within(
        worker.waitFor(new RegExp(`^handled ${transferType} ${from + 40}$`)),
        60_000,
        `worker of round ${round}`,
      );
    } finally {
      await worker.kill();
    }
    const now = await assertExactlyOnce();
    assert.ok(now.get(transferType)! > from, `round ${round} made progress`);
    stored = now;
  }

  // 3. Restarted once more, to the end.
  const last = start({ exitWhenCaughtUp: true });
  const [, caughtUp] = await within(last.waitFor(/^caught-up (.+)$/), 60_000, "last worker");
  assert.equal(await within(last.exited, 30_000, "last worker exit"), 0);
  assert.deepEqual(JSON.parse(caughtUp!), totals);
  assert.deepEqual(Object.fromEntries(await assertExactlyOnce()), totals);
  const rows = await sql<{ id: string; cents: string }[]>`select id, cents from ${sql(balances)}`;
  assert.deepEqual(new Map(rows.map((r) => [r.id, Number(r.cents)])), expected);
});
