// Crypto-shredding on PGlite: events, snapshots, keys and projection offsets in one database;
// the scenarios of every backend, and the key's row gone after a forget.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import {
  PgliteEventLog,
  PgliteKeyStore,
  PgliteOffsetStore,
  PgliteSnapshotStore,
} from "../adapters/pglite/mod.ts";
import { sqlNames } from "../adapters/_sql/names.ts";
import { jsonBinarize } from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { cryptoShredding, FORGOTTEN } from "../shredding/mod.ts";
import {
  type Customer,
  type CustomerEvent,
  personalFieldsScenario,
  type ShreddingBackend,
  wholeEventsScenario,
} from "./_shredding_scenario.ts";

let db: PGlite;
let backend: ShreddingBackend<unknown>;

before(async () => {
  db = await PGlite.create();
  const eventLog = new PgliteEventLog(db);
  await eventLog.setup();
  const offsetStore = new PgliteOffsetStore(db);
  await offsetStore.setup();
  backend = {
    eventLog,
    snapshotStore: new PgliteSnapshotStore(db),
    keyStore: new PgliteKeyStore(db),
    offsetStore: offsetStore as ShreddingBackend<unknown>["offsetStore"],
  };
}, { timeout: 60_000 });

after(async () => {
  await (backend?.eventLog as PgliteEventLog | undefined)?.close();
  await db?.close();
}, { timeout: 60_000 });

test("PGlite: personal fields read as forgotten everywhere; the rest intact", async () => {
  await personalFieldsScenario(backend);
});

test("PGlite: whole events read as FORGOTTEN_EVENT, the whole state as forgottenState", async () => {
  await wholeEventsScenario(backend);
});

test("PGlite: a forget deletes the key's row; the events' rows stay", async () => {
  const typeName = uniqueTypeName("customer");
  const shredding = cryptoShredding({ keyStore: backend.keyStore });
  const log = shredding.eventLog(backend.eventLog);
  const binarize = shredding.binarize(jsonBinarize<CustomerEvent, Customer>(), {
    events: ["email"],
    states: "none",
  });
  await log.persist(typeName, "a", null, [
    binarize.eventToBytes({ type: "registered", name: "n", email: "a@mail", plan: "free" }),
  ]);
  const { keys } = sqlNames();
  const count = async () =>
    (await db.query<{ n: number }>(`select count(*)::int as n from ${keys} where type_name = $1`, [
      typeName,
    ])).rows[0]!.n;
  assert.equal(await count(), 1);
  await shredding.forget(typeName, "a");
  assert.equal(await count(), 0);
  const events = await collect(log.eventsById(typeName, "a", 1));
  assert.equal(events.length, 1);
  assert.deepEqual(binarize.eventFromBytes(events[0]!.bytes), {
    type: "registered",
    name: "n",
    plan: "free",
    email: FORGOTTEN,
  });
});
