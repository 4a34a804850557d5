// The PGlite adapter: the conformance suites on an in-memory PGlite, plus what is particular to
// it (a data directory that outlives the process, group commit on its single connection).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteOffsetStore, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { isConcurrencyError, isStorageError } from "../mod.ts";
import { collect, testEventLog, testSnapshotStore, uniqueTypeName } from "../testing/mod.ts";
import { testSqlPages } from "./_sql_pages.ts";
import { testSqlMetadata } from "./_sql_metadata.ts";
import { testSqlUpgrade } from "./_sql_upgrade.ts";
import { pgliteClient } from "../adapters/pglite/_client.ts";

let db: PGlite;

before(async () => {
  db = await PGlite.create();
  await new PgliteEventLog(db).setup();
}, { timeout: 60_000 });

after(async () => {
  await db?.close();
}, { timeout: 60_000 });

const bytes = (...values: number[]) => new Uint8Array(values);

testEventLog("PgliteEventLog", () => new PgliteEventLog(db), {
  dispose: (log) => (log as PgliteEventLog).close(),
});

testSnapshotStore("PgliteSnapshotStore", () => new PgliteSnapshotStore(db));

testSqlPages("PgliteEventLog", (options) => new PgliteEventLog(db, options));

testSqlMetadata("PgliteEventLog", () => ({
  client: pgliteClient(db, "PGlite"),
  log: (options) => new PgliteEventLog(db, options),
}));

testSqlUpgrade("PgliteEventLog", () => ({
  client: pgliteClient(db, "PGlite"),
  log: (options) => new PgliteEventLog(db, options),
  snapshots: (options) => new PgliteSnapshotStore(db, options),
}));

testSnapshotStore("PgliteSnapshotStore keeping 3", () => new PgliteSnapshotStore(db, { keep: 3 }));

test("a PGlite data directory keeps events and snapshots across close and reopen", {
  timeout: 60_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-pglite-"));
  try {
    const first = await PgliteEventLog.open({ dataDir });
    await first.setup();
    await first.persist("account", "a", null, [bytes(1), bytes(2)]);
    await first.close();
    const store = await PgliteSnapshotStore.open({ dataDir });
    await store.save("account", "a", 2, bytes(42));
    await store.close();

    const again = await PgliteEventLog.open({ dataDir });
    await again.setup();
    const events = await collect(again.eventsById("account", "a", 1));
    assert.deepEqual(events.map((e) => [e.seqNo, [...e.bytes]]), [[1, [1]], [2, [2]]]);
    assert.equal(await again.persist("account", "a", 2, [bytes(3)]), 3);
    await again.close();
    const reopened = await PgliteSnapshotStore.open({ dataDir });
    assert.deepEqual([...(await reopened.load("account", "a"))!.bytes], [42]);
    await reopened.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test(
  "group commit on PGlite: persists issued together share one transaction, and a conflicting one fails alone",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("group");
    const log = new PgliteEventLog(db);
    await log.persist(typeName, "taken", null, [bytes(0)]);
    const ids = Array.from({ length: 32 }, (_, i) => `e${i}`);
    const results = await Promise.allSettled([
      ...ids.map((id, i) => log.persist(typeName, id, null, [bytes(i), bytes(i, 1)])),
      log.persist(typeName, "taken", null, [bytes(99)]),
    ]);
    const conflict = results.pop()!;
    assert.ok(results.every((r) => r.status === "fulfilled" && r.value === 2));
    const error = (conflict as PromiseRejectedResult).reason;
    assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
    assert.equal(error.actual, 1);
    const { rows } = await db.query<{ rows: number; transactions: number }>(
      `select count(*)::int as rows, count(distinct xmin::text)::int as transactions
     from eventsourced_events where type_name = $1 and id <> 'taken'`,
      [typeName],
    );
    assert.deepEqual(rows[0], { rows: 64, transactions: 1 });
    const positions = (await collect(log.eventsByType(typeName, 0))).map((e) => e.position);
    assert.deepEqual(positions, Array.from({ length: 65 }, (_, i) => i + 1));
  },
);

test(
  "a bad table prefix or schema is refused before the database is touched",
  { timeout: 60_000 },
  async () => {
    for (const tablePrefix of ['x"', "a b", "UPPER"]) {
      assert.throws(() => new PgliteEventLog(db, { tablePrefix }), /tablePrefix/);
      assert.throws(() => new PgliteSnapshotStore(db, { tablePrefix }), /tablePrefix/);
      await assert.rejects(PgliteEventLog.open({ tablePrefix }), /tablePrefix/);
    }
    assert.throws(() => new PgliteEventLog(db, { schema: "drop table" }), /schema/);
  },
);

test(
  "PGlite tables live in the configured schema with the configured prefix",
  { timeout: 60_000 },
  async () => {
    const log = new PgliteEventLog(db, { schema: "shop", tablePrefix: "es_" });
    await log.setup();
    await log.setup();
    const typeName = uniqueTypeName("schema");
    await log.persist(typeName, "a", null, [bytes(7)]);
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::int as n from shop.es_events where type_name = $1",
      [typeName],
    );
    assert.equal(rows[0]!.n, 1);
    assert.deepEqual(await collect(new PgliteEventLog(db).eventsByType(typeName, 0)), []);
  },
);

test(
  "an event or snapshot above the maximum is refused as too-large, nothing written, the log goes on",
  {
    timeout: 60_000,
  },
  async () => {
    const typeName = uniqueTypeName("too-large");
    const tooLarge = (error: unknown) => isStorageError(error) && error.reason === "too-large";
    const log = new PgliteEventLog(db);
    // Far above what PGlite takes (a 100 MB event ended the process): refused before any write.
    const huge = new Uint8Array(100 * 1024 * 1024);
    await assert.rejects(log.persist(typeName, "a", null, [huge]), tooLarge);
    await assert.rejects(
      log.persist(typeName, "a", null, [new Uint8Array(4 * 1024 * 1024 + 1)]),
      tooLarge,
    );
    assert.equal(await log.lastSeqNo(typeName, "a"), null);
    assert.equal(await log.persist(typeName, "a", null, [new Uint8Array(4 * 1024 * 1024)]), 1);
    const small = new PgliteEventLog(db, { maxEventBytes: 10 });
    await assert.rejects(small.persist(typeName, "a", 1, [new Uint8Array(11)]), tooLarge);
    assert.equal(await small.persist(typeName, "a", 1, [new Uint8Array(10)]), 2);
    assert.throws(() => new PgliteEventLog(db, { maxEventBytes: 100 * 1024 * 1024 }), RangeError);
    const store = new PgliteSnapshotStore(db, { maxSnapshotBytes: 10 });
    await assert.rejects(store.save(typeName, "a", 2, new Uint8Array(11)), tooLarge);
    assert.equal(await store.load(typeName, "a"), null);
    assert.throws(() => new PgliteSnapshotStore(db, { maxSnapshotBytes: 1e9 }), RangeError);
  },
);

test("unknown option keys are refused, naming the key", async () => {
  const unknown = (key: string) => (error: unknown) =>
    error instanceof TypeError && error.message.includes(key) &&
    /known options are/.test(error.message);
  assert.throws(() => new PgliteEventLog(db, { pagesize: 3 } as never), unknown("pagesize"));
  assert.throws(() => new PgliteSnapshotStore(db, { keeps: 3 } as never), unknown("keeps"));
  assert.throws(() => new PgliteOffsetStore(db, { table: "x" } as never), unknown("table"));
  await assert.rejects(PgliteEventLog.open({ datadir: "x" } as never), unknown("datadir"));
  await assert.rejects(PgliteSnapshotStore.open({ dir: "x" } as never), unknown("dir"));
  const log = new PgliteEventLog(db);
  assert.throws(() => log.eventsByType("t", 0, { follow: true } as never), unknown("follow"));
  await assert.rejects(log.lastSeqNo("t", "a", { timeout: 1 } as never), unknown("timeout"));
  const offsets = new PgliteOffsetStore(db);
  await assert.rejects(offsets.acquire("totals", { wiat: true } as never), unknown("wiat"));
  await assert.rejects(offsets.load("totals", { signl: undefined } as never), unknown("signl"));
  const store = new PgliteSnapshotStore(db);
  await assert.rejects(store.load("t", "a", { sigal: undefined } as never), unknown("sigal"));
});

test("a closed PGlite and a closed log fail with reason closed", { timeout: 60_000 }, async () => {
  const closed = (error: unknown) => isStorageError(error) && error.reason === "closed";
  const own = await PGlite.create();
  const log = new PgliteEventLog(own);
  await log.setup();
  await own.close();
  await assert.rejects(log.persist("t", "a", null, [bytes(1)]), closed);
  await assert.rejects(log.lastSeqNo("t", "a"), closed);
  const opened = await PgliteEventLog.open();
  await opened.close();
  await assert.rejects(opened.persist("t", "a", null, [bytes(1)]), closed);
});
