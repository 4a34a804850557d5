// copyStore between PostgreSQL and NATS JetStream on servers started for this file: into NATS
// (which numbers positions itself, in the same order) and back into PostgreSQL (which numbers
// them 1, 2, 3 … in the same order), each store in tables or a stream and buckets of its own.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jsonBinarize } from "../mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import postgres from "postgres";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { NatsStoreAdmin } from "../adapters/nats/mod.ts";
import { PostgresStoreAdmin } from "../adapters/postgres/mod.ts";
import { copyStore, type StoreAdmin, verifyLog } from "../admin/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { testCopy } from "./copy_suite.ts";
import { fillStore, freshTables } from "./copy_fixtures.ts";

let pg: PostgresServer;
let sql: postgres.Sql;
let nats: NatsTestServer;
let nc: NatsConnection;
let streams = 0;

before(async () => {
  [pg, nats] = await Promise.all([startPostgres({ fsync: false }), startNatsServer()]);
  sql = postgres(pg.url, { onnotice: () => {} });
  nc = await wsconnect({ servers: nats.wsUrl });
}, { timeout: 120_000 });

after(async () => {
  await nc?.close();
  await sql?.end({ timeout: 5 });
  await pg?.stop();
  await nats?.dispose();
}, { timeout: 60_000 });

function openPostgres(): Promise<StoreAdmin> {
  return freshTables((options) => new PostgresStoreAdmin(sql, options));
}

async function openNats(): Promise<StoreAdmin> {
  const name = `copy${++streams}`;
  const admin = new NatsStoreAdmin(nc, {
    stream: name,
    subjectPrefix: name,
    snapshotBucket: `${name}-snapshots`,
    offsetBucket: `${name}_offsets`,
  });
  await admin.setup();
  return admin;
}

testCopy("PostgreSQL to NATS", openPostgres, openNats);
testCopy("NATS to PostgreSQL", openNats, openPostgres);

test("verifyLog passes a NATS store and its PostgreSQL copy, whose positions are numbered anew without gaps", async () => {
  const source = await openNats();
  const target = await openPostgres();
  try {
    await fillStore(source, [uniqueTypeName(), uniqueTypeName()]);
    await copyStore(source, target);
    const codec = jsonBinarize();
    assert.deepEqual((await verifyLog(source, { codec })).problems, []);
    assert.deepEqual((await verifyLog(target, { codec })).problems, []);
  } finally {
    await source.close();
    await target.close();
  }
});
