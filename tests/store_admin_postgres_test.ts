// The PostgreSQL store admin against a real server: the conformance suite, plus what is
// particular to it (connect(), a reset refused while a runner of another client holds the
// name, an import racing appends of the same type name).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  PostgresOffsetStore,
  PostgresStoreAdmin,
  type PostgresStoreAdminOptions,
  SCHEMA_VERSION,
} from "../adapters/postgres/mod.ts";
import { isProjectionError } from "../projection/mod.ts";
import { compareCodePoints } from "../admin/_order.ts";
import { collect, testStoreAdmin, uniqueTypeName } from "../testing/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let freshPrefix = 0;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  await new PostgresStoreAdmin(sql).setup();
}, { timeout: 120_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, { timeout: 60_000 });

testStoreAdmin("PostgresStoreAdmin", () => new PostgresStoreAdmin(sql, { pageSize: 500 }), {
  fresh: () => new PostgresStoreAdmin(sql, { tablePrefix: `fresh${++freshPrefix}_` }),
  offsetStore: () => new PostgresOffsetStore(sql, { lockPollMs: 50 }),
  dispose: (admin) => admin.close(),
  pagingIds: 1_200,
});

test("PostgresStoreAdmin refuses a bad client and bad options before any I/O", async () => {
  assert.throws(
    () => new PostgresStoreAdmin({} as postgres.Sql),
    /Invalid sql: expected a postgres.js/,
  );
  assert.throws(() => new PostgresStoreAdmin(sql, { schema: "A" }), /Invalid schema "A"/);
  assert.throws(
    () => new PostgresStoreAdmin(sql, { queryTimeout: -1 }),
    /Invalid queryTimeout -1/,
  );
  assert.throws(
    () => new PostgresStoreAdmin(sql, { pageSize: 1.5 }),
    /Invalid PostgresStoreAdmin option pageSize 1.5/,
  );
  await assert.rejects(
    PostgresStoreAdmin.connect({ url: "http://x" }),
    /Invalid PostgresConnectOptions option url "http:\/\/x"/,
  );
  await assert.rejects(
    PostgresStoreAdmin.connect({ url: server.url, page: 1 } as PostgresStoreAdminOptions),
    /Unknown PostgresConnectOptions option "page"/,
  );
});

test("PostgresStoreAdmin.connect opens a client that close() ends", async () => {
  const admin = await PostgresStoreAdmin.connect({ url: server.url, max: 2 });
  assert.equal((await admin.schema()).installed, SCHEMA_VERSION);
  const typeName = uniqueTypeName();
  await admin.eventLog.persist(typeName, "a", null, [new Uint8Array([1])]);
  assert.deepEqual(await collect(admin.entityIds(typeName)), ["a"]);
  await admin.close();
  await assert.rejects(admin.entityTypes(), /closed/i);
});

test("resetProjection is refused while a runner on another client holds the name", async () => {
  const other = postgres(server.url, { onnotice: () => {}, max: 2 });
  const admin = new PostgresStoreAdmin(sql);
  try {
    const store = new PostgresOffsetStore(other);
    const name = uniqueTypeName("p");
    const lease = await store.acquire(name);
    await lease.commit({ from: 0, to: 9 }, () => Promise.resolve());
    const error = await admin.resetProjection(name, 0).catch((e) => e);
    assert.ok(isProjectionError(error) && error.reason === "locked", String(error));
    assert.equal(await store.load(name), 9);
    await lease.release();
    await admin.resetProjection(name, 2);
    assert.equal(await store.load(name), 2);
  } finally {
    await admin.close();
    await other.end({ timeout: 5 });
  }
});

test("an import racing appends of the same type name never shares, reorders or skips a position", async () => {
  const admin = new PostgresStoreAdmin(sql);
  const typeName = uniqueTypeName();
  try {
    const appends = Array.from(
      { length: 40 },
      (_, i) => admin.eventLog.persist(typeName, `w${i}`, null, [new Uint8Array([i])]),
    );
    const imports: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      const head = (await admin.entityTypes()).find((t) => t.typeName === typeName)?.headPosition ??
        0;
      imports.push(
        admin.importEvents([{
          typeName,
          id: `i${round}`,
          seqNo: 1,
          position: head + 1,
          bytes: new Uint8Array([round]),
          version: 1,
          writtenAt: 1_700_000_000_000,
          metadata: {},
        }]).catch((error) => error),
      );
    }
    await Promise.all(appends);
    const outcomes = await Promise.all(imports);
    const events = await collect(admin.eventLog.eventsByType(typeName, 0));
    const positions = events.map((e) => e.position);
    assert.equal(new Set(positions).size, positions.length, "every position once");
    assert.deepEqual(positions, positions.map((_, i) => i + 1), "positions 1, 2, 3 …");
    const imported = events.filter((e) => e.id.startsWith("i")).length;
    const refused = outcomes.filter((o) => o instanceof Error);
    assert.equal(imported + refused.length, 10, "each import either landed or was refused");
    for (const error of refused) {
      assert.match(
        (error as Error).message,
        /does not continue the type's head position|Cannot import/,
      );
    }
    assert.equal(events.filter((e) => e.id.startsWith("w")).length, 40);
  } finally {
    await admin.close();
  }
});

test("in a database whose collation is not code point order, listings are still in code point order", async () => {
  // ICU's root collation sorts case and punctuation its own way; without ICU, C.UTF-8 still
  // takes the path with an explicit collation.
  const database = `icu_${uniqueTypeName("d").replaceAll("-", "_")}`;
  await sql.unsafe(
    `create database ${database} template template0 encoding 'UTF8' locale_provider icu icu_locale 'und' locale 'C.UTF-8'`,
  ).catch(() =>
    sql.unsafe(`create database ${database} template template0 encoding 'UTF8' locale 'C.UTF-8'`)
  );
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  const admin = await PostgresStoreAdmin.connect({ url: url.href, max: 2, pageSize: 3 });
  try {
    await admin.setup();
    const typeName = uniqueTypeName();
    const ids = ["b", "B", "a", "A", "_x", "-x", "é", "e", "z", "Z", "\uffff", "😀", "a.b", "ab"];
    for (const id of ids) {
      await admin.eventLog.persist(typeName, id, null, [new Uint8Array([1])]);
      await admin.snapshotStore.save(typeName, id, 1, new Uint8Array([2]));
    }
    const expected = [...ids].sort(compareCodePoints);
    assert.deepEqual(await collect(admin.entityIds(typeName)), expected);
    assert.deepEqual((await collect(admin.snapshots(typeName))).map((s) => s.id), expected);
  } finally {
    await admin.close();
    await sql.unsafe(`drop database ${database}`);
  }
});
