// PostgresKeyStore against a PostgreSQL server of this file's own: the key store conformance
// suite, creates racing from two clients, rows gone after delete, and failures (a wrong
// password, a server nobody listens on, tables never set up) as errors, never as null.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { PostgresKeyStore, type PostgresKeyStoreOptions } from "../adapters/postgres/mod.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { isStorageError, type StorageFailure } from "../mod.ts";
import { testKeyStore, uniqueTypeName } from "../testing/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { freePort } from "./_servers/free_port.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let hbaDir: string;

before(async () => {
  // Passwords are checked for every role but the superuser, so a wrong one fails for real.
  hbaDir = mkdtempSync(join(tmpdir(), "eventsourced-hba-"));
  chmodSync(hbaDir, 0o755);
  const hbaFile = join(hbaDir, "pg_hba.conf");
  writeFileSync(
    hbaFile,
    [
      "local all all trust",
      "host all postgres 127.0.0.1/32 trust",
      "host all all 127.0.0.1/32 scram-sha-256",
    ].join("\n") + "\n",
  );
  chmodSync(hbaFile, 0o644);
  server = await startPostgres({ fsync: false, settings: { hba_file: hbaFile } });
  sql = postgres(server.url, { onnotice: () => {} });
  await sql`create role keeper login password 'right-password'`;
  await new PostgresKeyStore(sql).setup();
}, { timeout: 60_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
  if (hbaDir) rmSync(hbaDir, { recursive: true, force: true });
}, { timeout: 60_000 });

testKeyStore("PostgresKeyStore", () => new PostgresKeyStore(sql));

const key = (seed: number) => ({
  keyId: new Uint8Array(16).fill(seed),
  key: new Uint8Array(32).fill(seed + 100),
});
const storageError = (reason: StorageFailure, message?: RegExp) => (error: unknown) =>
  isStorageError(error) && error.reason === reason && (message?.test(error.message) ?? true);

test("PostgresKeyStore: creates racing from two clients agree on one key per entity", {
  timeout: 60_000,
}, async () => {
  const first = await PostgresKeyStore.connect({ url: server.url, max: 4 });
  const second = await PostgresKeyStore.connect({ url: server.url, max: 4 });
  try {
    const typeName = uniqueTypeName();
    const ids = Array.from({ length: 20 }, (_, i) => `e${i}`);
    const results = await Promise.all(
      ids.flatMap((id, i) => [
        first.create(typeName, id, key(2 * i + 1)),
        second.create(typeName, id, key(2 * i + 2)),
      ]),
    );
    for (const [i, id] of ids.entries()) {
      const stored = await first.get(typeName, id);
      assert.ok(stored !== null);
      for (const result of [results[2 * i]!, results[2 * i + 1]!]) {
        assert.deepEqual([...result.keyId], [...stored.keyId], `id ${id}`);
        assert.deepEqual([...result.key], [...stored.key], `id ${id}`);
      }
    }
  } finally {
    await first.close();
    await second.close();
  }
});

test("PostgresKeyStore: after delete no row in the table holds the key's bytes", async () => {
  const store = new PostgresKeyStore(sql);
  const typeName = uniqueTypeName();
  // Random bytes, so that no other test's key matches them.
  const given = {
    keyId: crypto.getRandomValues(new Uint8Array(16)),
    key: crypto.getRandomValues(new Uint8Array(32)),
  };
  await store.create(typeName, "a", given);
  await store.create(typeName, "b", key(8));
  const table = sqlNames().keys;
  const rowsWith = async () =>
    (await sql.unsafe(
      `select count(*)::int as n from ${table} where key = $1 or key_id = $2 or
        (type_name = $3 and id = 'a')`,
      [given.key, given.keyId, typeName],
    ))[0]!.n as number;
  assert.equal(await rowsWith(), 1);
  assert.equal(await store.delete(typeName, "a"), true);
  assert.equal(await rowsWith(), 0);
  const left = await sql.unsafe(`select id from ${table} where type_name = $1`, [typeName]);
  assert.deepEqual(left.map((row) => row.id), ["b"], "the other entity keeps its key");
});

test("PostgresKeyStore: a wrong password is permission-denied, not null", {
  timeout: 60_000,
}, async () => {
  const url = new URL(server.url);
  url.username = "keeper";
  url.password = "wrong-password";
  const wrong = postgres(url.href, { onnotice: () => {}, connect_timeout: 5, max: 1 });
  try {
    const store = new PostgresKeyStore(wrong);
    await assert.rejects(
      store.get("customer", "a"),
      storageError("permission-denied", /Cannot read the key of "customer\/a".*authentication/),
    );
    await assert.rejects(store.create("customer", "a", key(1)), storageError("permission-denied"));
    await assert.rejects(store.delete("customer", "a"), storageError("permission-denied"));
  } finally {
    await wrong.end({ timeout: 0 });
  }
  await assert.rejects(PostgresKeyStore.connect({ url: url.href }), /authentication|password/i);
});

test("PostgresKeyStore: a server nobody listens on is unavailable, naming the address", {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const unreachable = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, {
    onnotice: () => {},
    connect_timeout: 5,
  });
  try {
    const store = new PostgresKeyStore(unreachable);
    const refused = new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`);
    await assert.rejects(store.get("customer", "a"), storageError("unavailable", refused));
    await assert.rejects(store.create("customer", "a", key(1)), storageError("unavailable"));
    await assert.rejects(store.delete("customer", "a"), storageError("unavailable"));
  } finally {
    await unreachable.end({ timeout: 0 });
  }
});

test("PostgresKeyStore: tables never set up give schema-missing naming setup()", async () => {
  const store = new PostgresKeyStore(sql, { tablePrefix: "never_set_up_" });
  await assert.rejects(store.get("customer", "a"), storageError("schema-missing", /setup\(\)/));
  await assert.rejects(store.create("customer", "a", key(1)), storageError("schema-missing"));
  await assert.rejects(store.delete("customer", "a"), storageError("schema-missing"));
});

test("PostgresKeyStore: bad options are refused before any I/O", async () => {
  assert.throws(() => new PostgresKeyStore(sql, { tablePrefix: "Bad-" }), /tablePrefix "Bad-"/);
  assert.throws(
    () => new PostgresKeyStore(sql, { keep: 2 } as PostgresKeyStoreOptions),
    /Unknown PostgresKeyStore option "keep"/,
  );
  assert.throws(() => new PostgresKeyStore(sql, { queryTimeout: 0 }), /queryTimeout/);
  await assert.rejects(
    PostgresKeyStore.connect({ url: server.url, schema: "Bad schema" }),
    /schema/,
  );
});
