// PgliteKeyStore: the key store conformance suite on an in-memory PGlite, plus what is
// particular to it (rows gone after delete, a missing schema, a closed database, options).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { PgliteKeyStore, type PgliteKeyStoreOptions } from "../adapters/pglite/mod.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { isStorageError } from "../mod.ts";
import { testKeyStore, uniqueTypeName } from "../testing/mod.ts";

let db: PGlite;

before(async () => {
  db = await PGlite.create();
  await new PgliteKeyStore(db).setup();
}, { timeout: 60_000 });

after(async () => {
  await db?.close();
}, { timeout: 60_000 });

testKeyStore("PgliteKeyStore", () => new PgliteKeyStore(db));

const key = (seed: number) => ({
  keyId: new Uint8Array(16).fill(seed),
  key: new Uint8Array(32).fill(seed + 100),
});

test("PgliteKeyStore: after delete no row holds the key's bytes", async () => {
  const store = new PgliteKeyStore(db);
  const typeName = uniqueTypeName();
  // Random bytes, so that no other test's key matches them.
  const given = {
    keyId: crypto.getRandomValues(new Uint8Array(16)),
    key: crypto.getRandomValues(new Uint8Array(32)),
  };
  await store.create(typeName, "a", given);
  await store.create(typeName, "b", key(8));
  const { keys } = sqlNames();
  const rowsWith = async () =>
    (await db.query<{ n: number }>(
      `select count(*)::int as n from ${keys} where key = $1 or key_id = $2 or
        (type_name = $3 and id = 'a')`,
      [given.key, given.keyId, typeName],
    )).rows[0]!.n;
  assert.equal(await rowsWith(), 1);
  assert.equal(await store.delete(typeName, "a"), true);
  assert.equal(await rowsWith(), 0);
  const left = await db.query<{ id: string }>(
    `select id from ${keys} where type_name = $1`,
    [typeName],
  );
  assert.deepEqual(left.rows.map((row) => row.id), ["b"], "the other entity keeps its key");
});

test("PgliteKeyStore: the keys live in the tables of the given prefix", async () => {
  const store = new PgliteKeyStore(db, { tablePrefix: "shop_" });
  await store.setup();
  const typeName = uniqueTypeName();
  await store.create(typeName, "a", key(1));
  assert.equal(await new PgliteKeyStore(db).get(typeName, "a"), null);
  const rows = await db.query(
    `select 1 from ${sqlNames({ tablePrefix: "shop_" }).keys}
    where type_name = $1`,
    [typeName],
  );
  assert.equal(rows.rows.length, 1);
});

test("PgliteKeyStore: tables never set up give schema-missing naming setup(), not null", async () => {
  const store = new PgliteKeyStore(db, { tablePrefix: "never_set_up_" });
  for (const call of [() => store.get("customer", "a"), () => store.delete("customer", "a")]) {
    const error = await call().catch((e) => e);
    assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
    assert.equal(error.reason, "schema-missing");
    assert.match(error.message, /the key of "customer\/a".*setup\(\)/);
  }
  const error = await store.create("customer", "a", key(1)).catch((e) => e);
  assert.ok(isStorageError(error) && error.reason === "schema-missing", `${error}`);
});

test("PgliteKeyStore: a closed database is an error with reason closed, not null", async () => {
  const store = await PgliteKeyStore.open();
  await store.setup();
  await store.create("customer", "a", key(1));
  await store.close();
  const error = await store.get("customer", "a").catch((e) => e);
  assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
  assert.equal(error.reason, "closed");
});

test("PgliteKeyStore: bad options and a bad client are refused before any I/O", async () => {
  assert.throws(
    () => new PgliteKeyStore(db, { tablePrefix: "Bad-" }),
    /Invalid tablePrefix "Bad-"/,
  );
  assert.throws(
    () => new PgliteKeyStore(db, { prefix: "a_" } as PgliteKeyStoreOptions),
    /Unknown PgliteKeyStore option "prefix"/,
  );
  assert.throws(() => new PgliteKeyStore({} as PGlite), /Invalid db/);
  await assert.rejects(
    PgliteKeyStore.open({ dataDir: 5 } as never),
    /Invalid PgliteKeyStore.open option dataDir 5/,
  );
});
