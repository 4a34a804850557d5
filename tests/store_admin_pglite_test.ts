// The PGlite store admin: the conformance suite on an in-memory PGlite, plus what is particular
// to it (its own PGlite from open(), writtenAt kept to the millisecond).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import {
  PgliteOffsetStore,
  PgliteStoreAdmin,
  type PgliteStoreAdminOptions,
} from "../adapters/pglite/mod.ts";
import { collect, testStoreAdmin, uniqueTypeName } from "../testing/mod.ts";
import { pgliteClient } from "../adapters/pglite/_client.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { VersionOneWriter } from "./_sql_v1.ts";

let db: PGlite;
let freshPrefix = 0;

before(async () => {
  db = await PGlite.create();
  await new PgliteStoreAdmin(db).setup();
}, { timeout: 60_000 });

after(async () => {
  await db?.close();
}, { timeout: 60_000 });

testStoreAdmin("PgliteStoreAdmin", () => new PgliteStoreAdmin(db, { pageSize: 100 }), {
  fresh: () => new PgliteStoreAdmin(db, { tablePrefix: `fresh${++freshPrefix}_` }),
  offsetStore: () => new PgliteOffsetStore(db),
  dispose: (admin) => admin.close(),
  pagingIds: 450,
});

test("PgliteStoreAdmin refuses a bad client and bad options before any I/O", () => {
  assert.throws(() => new PgliteStoreAdmin({} as PGlite), /Invalid db: expected a PGlite/);
  assert.throws(
    () => new PgliteStoreAdmin(db, { tablePrefix: "Bad-" }),
    /Invalid tablePrefix "Bad-"/,
  );
  assert.throws(
    () => new PgliteStoreAdmin(db, { pageSize: 0 }),
    /Invalid PgliteStoreAdmin option pageSize 0/,
  );
  assert.throws(
    () => new PgliteStoreAdmin(db, { page: 1 } as PgliteStoreAdminOptions),
    /Unknown PgliteStoreAdmin option "page"/,
  );
});

test("PgliteStoreAdmin.open opens its own PGlite, which close() closes", async () => {
  await assert.rejects(
    PgliteStoreAdmin.open({ dataDir: 5 } as never),
    /Invalid PgliteStoreAdmin.open option dataDir 5/,
  );
  const admin = await PgliteStoreAdmin.open();
  assert.deepEqual(await admin.schema(), { installed: null, latest: 3 });
  await admin.setup();
  const typeName = uniqueTypeName();
  await admin.eventLog.persist(typeName, "a", null, [new Uint8Array([1])]);
  assert.deepEqual(await collect(admin.entityIds(typeName)), ["a"]);
  await admin.close();
  await assert.rejects(admin.entityTypes(), /closed/i);
});

test("PgliteStoreAdmin keeps writtenAt to the millisecond over the whole range", async () => {
  const admin = new PgliteStoreAdmin(db);
  const typeName = uniqueTypeName();
  const times = [
    0,
    1,
    999,
    1_000,
    1_699_999_999_999,
    1_700_000_000_123,
    4_102_444_800_001,
    253_402_300_799_999,
  ];
  await admin.importEvents(times.map((writtenAt, i) => ({
    typeName,
    id: "a",
    seqNo: i + 1,
    position: i + 1,
    bytes: new Uint8Array([i]),
    version: 1,
    writtenAt,
    metadata: {},
  })));
  const read = await collect(admin.eventLog.eventsById(typeName, "a", 1));
  assert.deepEqual(read.map((e) => e.writtenAt), times);
  await admin.close();
});

test("PgliteStoreAdmin reads version 1 in a database of the first release, and setup() upgrades it", async () => {
  const tablePrefix = `old${++freshPrefix}_`;
  const old = new VersionOneWriter(pgliteClient(db, "PGlite"), sqlNames({ tablePrefix }));
  await old.setup();
  await old.appendOne("cart", "c-1", 0, new Uint8Array([1]));
  const admin = new PgliteStoreAdmin(db, { tablePrefix });
  assert.deepEqual(await admin.schema(), { installed: 1, latest: 3 });
  assert.deepEqual(await admin.entityTypes(), [
    { typeName: "cart", entities: 1, events: 1, headPosition: 1 },
  ]);
  await admin.setup();
  assert.deepEqual(await admin.schema(), { installed: 3, latest: 3 });
  await admin.importEvents([{
    typeName: "cart",
    id: "c-1",
    seqNo: 2,
    position: 2,
    bytes: new Uint8Array([2]),
    version: 3,
    writtenAt: 1_700_000_000_000,
    metadata: { commandId: "x" },
  }]);
  const events = await collect(admin.eventLog.eventsById("cart", "c-1", 1));
  assert.deepEqual(events.map((e) => [e.seqNo, e.position, e.version, e.metadata]), [
    [1, 1, 1, {}],
    [2, 2, 3, { commandId: "x" }],
  ]);
  await admin.close();
});
