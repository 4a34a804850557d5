// EventLog.countAfter on the logs that have it (memory, PGlite, PostgreSQL on a server started
// for this file): the events of a type after a position, other types not counted, bad
// arguments refused before any query.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { type EventLog, MemoryEventLog } from "../mod.ts";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { PgliteEventLog } from "../adapters/pglite/mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";

let server: PostgresServer;
let sql: postgres.Sql;
let db: PGlite;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { max: 2, onnotice: () => {} });
  db = await PGlite.create();
});

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
  await db?.close();
});

const bytes = (n: number) => new Uint8Array([n]);

const logs: [
  string,
  () => Promise<EventLog & { countAfter: NonNullable<EventLog["countAfter"]> }>,
][] = [
  ["memory", () => Promise.resolve(new MemoryEventLog())],
  ["PGlite", async () => {
    const log = new PgliteEventLog(db);
    await log.setup();
    return log;
  }],
  ["PostgreSQL", async () => {
    const log = new PostgresEventLog(sql);
    await log.setup();
    return log;
  }],
];

for (const [name, open] of logs) {
  test(`${name}: countAfter counts the events of the type after a position`, async () => {
    const log = await open();
    const typeName = uniqueTypeName();
    const other = uniqueTypeName();
    assert.equal(await log.countAfter(typeName, 0), 0);
    await log.persist(typeName, "a", null, [bytes(1), bytes(2)]);
    await log.persist(other, "a", null, [bytes(1), bytes(2), bytes(3)]);
    await log.persist(typeName, "b", null, [bytes(3)]);
    await log.persist(typeName, "a", 2, [bytes(4)]);
    const counts = [];
    for (const position of [0, 1, 2, 3, 4, 5, 1_000]) {
      counts.push(await log.countAfter(typeName, position));
    }
    assert.deepEqual(counts, [4, 3, 2, 1, 0, 0, 0]);
    assert.equal(await log.countAfter(other, 1), 2);
  });

  test(`${name}: countAfter refuses bad arguments before any query`, async () => {
    const log = await open();
    await assert.rejects(log.countAfter("", 0), /Invalid typeName ""/);
    await assert.rejects(log.countAfter("t", -1), (e: Error) => e instanceof RangeError);
    await assert.rejects(log.countAfter("t", 1.5), (e: Error) => e instanceof RangeError);
    const reason = new Error("gave up");
    await assert.rejects(log.countAfter("t", 0, { signal: AbortSignal.abort(reason) }), /gave up/);
  });
}
