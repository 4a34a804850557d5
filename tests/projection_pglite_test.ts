// Projections on PGlite: events in a PgliteEventLog, offsets and read model in the same
// database, written in one transaction per commit.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { jsonBinarize } from "../mod.ts";
import { PgliteEventLog } from "../adapters/pglite/mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import { isProjectionError, Projection } from "../projection/mod.ts";
import { PgliteOffsetStore } from "../adapters/pglite/mod.ts";
import { protobufBank, runLoad } from "./projection_fixtures.ts";

let db: PGlite;
let eventLog: PgliteEventLog;
let offsetStore: PgliteOffsetStore;

before(async () => {
  db = await PGlite.create();
  eventLog = new PgliteEventLog(db);
  await eventLog.setup();
  offsetStore = new PgliteOffsetStore(db);
  await offsetStore.setup();
});

after(async () => {
  await eventLog?.close();
  await db?.close();
});

const binarize = jsonBinarize<number, number>();

/** Persists each value as the next event of entity `e<i>`. */
async function write(typeName: string, values: number[]) {
  for (const [i, value] of values.entries()) {
    const last = await eventLog.lastSeqNo(typeName, `e${i}`);
    await eventLog.persist(typeName, `e${i}`, last, [binarize.eventToBytes(value)]);
  }
}

/** A table that logs every application of an event: (position, value). */
async function appliedTable(): Promise<string> {
  const table = `applied_${uniqueTypeName("t").replaceAll("-", "_")}`;
  await db.exec(`create table ${table} (position bigint not null, value int not null)`);
  return table;
}

async function appliedRows(table: string): Promise<{ position: number; value: number }[]> {
  const { rows } = await db.query<{ position: number; value: number }>(
    `select position::int as position, value from ${table} order by position`,
  );
  return rows;
}

test("account balances in PGlite match the entities after a load (protobuf events)", async () => {
  const bank = protobufBank(uniqueTypeName("account"));
  const table = `balances_${bank.entity.typeName.replaceAll("-", "_")}`;
  await db.exec(`create table ${table} (id text primary key, cents bigint not null)`);
  const projection = new Projection(`balances-${bank.entity.typeName}`, {
    typeName: bank.entity,
    eventLog,
    binarize: bank.binarize,
    offsetStore,
    batchSize: 50,
    handleEvent: async ({ id, event }, { tx }) => {
      await tx.query(
        `insert into ${table} values ($1, $2)
         on conflict (id) do update set cents = ${table}.cents + excluded.cents`,
        [id, bank.change(event)],
      );
    },
  });
  await projection.run();
  const load = await runLoad(bank, eventLog, { accounts: 10, commandsPerAccount: 30 });
  await within(projection.whenCaughtUp(), 30_000, "whenCaughtUp");
  const { rows } = await db.query<{ id: string; cents: number }>(
    `select id, cents::int as cents from ${table}`,
  );
  assert.deepEqual(new Map(rows.map((r) => [r.id, r.cents])), load.balances);
  assert.equal(projection.state().offset, load.events);
  assert.equal(await offsetStore.load(projection.name), load.events);
  await projection.stop();
});

test("a retried event's writes from the failed attempt are rolled back: applied once", async () => {
  const typeName = uniqueTypeName();
  const table = await appliedTable();
  await write(typeName, [1, 2, 3]);
  let failures = 0;
  const projection = new Projection("retry-once", {
    typeName,
    eventLog,
    binarize,
    offsetStore,
    errorStrategy: { type: "retry", initialDelayMs: 1 },
    onError: () => {},
    handleEvent: async ({ position, event }, { tx }) => {
      await tx.query(`insert into ${table} values ($1, $2)`, [position, event]);
      if (event === 2 && failures++ < 2) throw new Error("after the write");
    },
  });
  await projection.run();
  await projection.whenCaughtUp();
  assert.equal(failures, 3);
  assert.deepEqual((await appliedRows(table)).map((r) => r.value), [1, 2, 3]);
  await projection.stop();
});

test("a failing batch is rolled back and split; skip leaves each other event applied once", async () => {
  const typeName = uniqueTypeName();
  const table = await appliedTable();
  await write(typeName, Array.from({ length: 40 }, (_, i) => i + 1));
  const projection = new Projection("split", {
    typeName,
    eventLog,
    binarize,
    offsetStore,
    batchSize: 16,
    errorStrategy: { type: "skip" },
    onError: () => {},
    handleBatch: async (envelopes, { tx }) => {
      for (const { position, event } of envelopes) {
        await tx.query(`insert into ${table} values ($1, $2)`, [position, event]);
        if (event === 20) throw new Error("no 20");
      }
    },
  });
  await projection.run();
  await projection.whenCaughtUp();
  const values = (await appliedRows(table)).map((r) => r.value);
  assert.deepEqual(values, Array.from({ length: 40 }, (_, i) => i + 1).filter((v) => v !== 20));
  assert.equal(projection.state().skipped, 1);
  await projection.stop();
});

test("reset clears the read model in the offset's transaction and the rebuild matches", async () => {
  const typeName = uniqueTypeName();
  const table = await appliedTable();
  await write(typeName, [5, 6, 7]);
  const projection = new Projection("rebuild", {
    typeName,
    eventLog,
    binarize,
    offsetStore,
    handleEvent: async ({ position, event }, { tx }) => {
      await tx.query(`insert into ${table} values ($1, $2)`, [position, event]);
    },
  });
  await projection.run();
  await projection.whenCaughtUp();
  const before = await appliedRows(table);
  await projection.stop();

  // A clear that fails leaves both the rows and the offset as they were.
  const failed = await projection.reset(0, {
    clear: async (tx) => {
      await tx.query(`delete from ${table}`);
      throw new Error("changed my mind");
    },
  }).catch((e) => e);
  assert.equal(failed.message, "changed my mind");
  assert.equal(await offsetStore.load("rebuild"), 3);
  assert.deepEqual(await appliedRows(table), before);

  await projection.reset(0, { clear: async (tx) => void await tx.query(`delete from ${table}`) });
  assert.equal(await offsetStore.load("rebuild"), 0);
  assert.deepEqual(await appliedRows(table), []);
  await projection.run();
  await projection.whenCaughtUp();
  assert.deepEqual(await appliedRows(table), before);
  await projection.stop();
});

test("a runner whose offset was moved by another stops with an offset conflict", async () => {
  const typeName = uniqueTypeName();
  const table = await appliedTable();
  await write(typeName, [1]);
  const projection = new Projection("fenced", {
    typeName,
    eventLog,
    binarize,
    offsetStore,
    onError: () => {},
    handleEvent: async ({ position, event }, { tx }) => {
      await tx.query(`insert into ${table} values ($1, $2)`, [position, event]);
    },
  });
  await projection.run();
  await projection.whenCaughtUp();
  // Someone else (a runner that should not exist) moves the offset.
  await db.query(
    "update eventsourced_projection_offsets set position = 100 where name = $1",
    ["fenced"],
  );
  await write(typeName, [2]);
  const state = await within(projection.whenStopped(), 10_000, "whenStopped");
  assert.equal(state.lastError?.reason, "offset-conflict");
  assert.deepEqual((await appliedRows(table)).map((r) => r.value), [1]);
});

test("two PGlite offset stores over one database exclude the same name", async () => {
  const other = new PgliteOffsetStore(db);
  const lease = await offsetStore.acquire("exclusive");
  const error = await other.acquire("exclusive").catch((e) => e);
  assert.ok(isProjectionError(error) && error.reason === "locked");
  await lease.release();
  const again = await other.acquire("exclusive");
  await again.release();
});

test("a commit whose signal aborts while its work runs stores nothing: neither the writes nor the offset", async () => {
  const table = await appliedTable();
  const lease = await offsetStore.acquire(uniqueTypeName("signal"));
  try {
    const controller = new AbortController();
    const error = await lease.commit({ from: 0, to: 1 }, async (tx) => {
      await tx.query(`insert into ${table} values (1, 1)`);
      controller.abort(new Error("stopping"));
    }, { signal: controller.signal }).catch((e) => e);
    assert.equal((error as Error).message, "stopping");
    assert.deepEqual(await appliedRows(table), []);
    assert.equal(await lease.load(), 0);
    const aborted = await lease.commit({ from: 0, to: 1 }, async () => {}, {
      signal: AbortSignal.abort(new Error("already stopped")),
    }).catch((e) => e);
    assert.equal((aborted as Error).message, "already stopped");
    await lease.commit({ from: 0, to: 1 }, async (tx) => {
      await tx.query(`insert into ${table} values (1, 1)`);
    });
    assert.equal(await lease.load(), 1);
    assert.deepEqual(await appliedRows(table), [{ position: 1, value: 1 }]);
  } finally {
    await lease.release();
  }
});
