// Crypto-shredding on a real PostgreSQL server of this file's own: the scenarios of every
// backend (the projection's offsets in the exactly-once PostgresOffsetStore), and keys created
// at once by two processes' shredding layers agreeing on one key.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  PostgresEventLog,
  PostgresKeyStore,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import { jsonBinarize } from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { cryptoShredding } from "../shredding/mod.ts";
import {
  type Customer,
  type CustomerEvent,
  personalFieldsScenario,
  type ShreddingBackend,
  wholeEventsScenario,
} from "./_shredding_scenario.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let eventLog: PostgresEventLog;
let backend: ShreddingBackend<unknown>;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  eventLog = new PostgresEventLog(sql);
  await eventLog.setup();
  const offsetStore = new PostgresOffsetStore(sql, { lockPollMs: 50 });
  await offsetStore.setup();
  backend = {
    eventLog,
    snapshotStore: new PostgresSnapshotStore(sql),
    keyStore: new PostgresKeyStore(sql),
    offsetStore: offsetStore as unknown as ShreddingBackend<unknown>["offsetStore"],
  };
}, { timeout: 60_000 });

after(async () => {
  await eventLog?.close();
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, { timeout: 60_000 });

test("PostgreSQL: personal fields read as forgotten everywhere, exactly-once projection too", async () => {
  await personalFieldsScenario(backend);
});

test("PostgreSQL: whole events read as FORGOTTEN_EVENT, the whole state as forgottenState", async () => {
  await wholeEventsScenario(backend);
});

test("PostgreSQL: two processes writing an entity's first events at once share one key", async () => {
  const typeName = uniqueTypeName("customer");
  const binarize = jsonBinarize<CustomerEvent, Customer>();
  const wrapped = cryptoShredding({ keyStore: backend.keyStore }).binarize(binarize, {
    events: ["email"],
    states: "none",
  });
  const other = postgres(server.url, { onnotice: () => {} });
  try {
    const first = cryptoShredding({ keyStore: new PostgresKeyStore(sql) });
    const second = cryptoShredding({ keyStore: new PostgresKeyStore(other) });
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    await Promise.all(
      ids.flatMap((id) =>
        [first, second].map((shredding, n) =>
          shredding.eventLog(eventLog).persist(typeName, `${id}-${n}`, null, [
            wrapped.eventToBytes({ type: "registered", name: "n", email: `${id}@mail`, plan: "p" }),
          ]).then(() =>
            // Then each writes the other's entity as well, racing for its key.
            shredding.eventLog(eventLog).persist(typeName, `${id}-${1 - n}`, 1, [
              wrapped.eventToBytes({
                type: "registered",
                name: "n",
                email: `${id}@mail`,
                plan: "q",
              }),
            ]).catch(() => undefined)
          )
        )
      ),
    );
    for (const id of ids) {
      for (const suffix of ["-0", "-1"]) {
        const events = await collect(first.eventLog(eventLog).eventsById(typeName, id + suffix, 1));
        for (const event of events) {
          assert.equal(
            (wrapped.eventFromBytes(event.bytes) as { email: string }).email,
            `${id}@mail`,
            "every event decrypts with the one key of its entity",
          );
        }
      }
    }
  } finally {
    await other.end({ timeout: 5 });
  }
});
