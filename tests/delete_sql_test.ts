// Deleting events on the SQL logs: the deletion suite on PGlite and on a real PostgreSQL server
// (started for this file), and a projection on PostgreSQL, with its offsets in the same
// database, that is behind a deletion.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { PgliteEventLog, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import {
  PostgresEventLog,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import { type EventLog, jsonBinarize } from "../mod.ts";
import { Projection } from "../projection/mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { testDeletion } from "./_delete_suite.ts";

let db: PGlite;
let server: PostgresServer;
let sql: postgres.Sql;

before(async () => {
  db = await PGlite.create();
  await new PgliteEventLog(db).setup();
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  await new PostgresEventLog(sql).setup();
}, { timeout: 60_000 });

after(async () => {
  await db?.close();
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, { timeout: 60_000 });

testDeletion("PgliteEventLog", () => ({
  log: new PgliteEventLog(db),
  snapshots: new PgliteSnapshotStore(db),
  other: () => Promise.resolve(new PgliteEventLog(db)),
  dispose: (log: EventLog) => (log as PgliteEventLog).close(),
}));

testDeletion("PostgresEventLog", () => ({
  log: new PostgresEventLog(sql),
  snapshots: new PostgresSnapshotStore(sql),
  // A pool of its own: caches and connections apart from the first log's.
  other: () => PostgresEventLog.connect({ url: server.url, max: 2 }),
  dispose: (log: EventLog) => (log as PostgresEventLog).close(),
}));

test("a projection behind a deletion skips the deleted events and handles the rest once", async () => {
  const eventLog = new PostgresEventLog(sql);
  const offsetStore = new PostgresOffsetStore(sql, { lockPollMs: 50 });
  await offsetStore.setup();
  const typeName = uniqueTypeName("account");
  const binarize = jsonBinarize<number, never>();
  const table = `handled_${typeName.replaceAll("-", "_")}`;
  await sql`create table ${sql(table)} (id text, seq_no bigint, primary key (id, seq_no))`;
  const persist = async (id: string, value: number) => {
    const last = await eventLog.lastSeqNo(typeName, id);
    await eventLog.persist(typeName, id, last, [binarize.eventToBytes(value)]);
  };
  const projection = () =>
    new Projection(`deleted-${typeName}`, {
      typeName,
      eventLog,
      binarize,
      offsetStore,
      batchSize: 2,
      // The primary key fails a second handling of an event.
      handleEvent: async ({ id, seqNo }, { tx }) => {
        await tx`insert into ${tx(table)} values (${id}, ${seqNo})`;
      },
    });
  const handled = async () =>
    (await sql<{ id: string; seq_no: string }[]>`select id, seq_no from ${sql(table)}
      order by id, seq_no`).map((row) => `${row.id}${row.seq_no}`);

  await persist("a", 1);
  await persist("a", 2);
  let running = projection();
  await running.run();
  await running.whenCaughtUp();
  await running.stop();
  assert.deepEqual(await handled(), ["a1", "a2"]);

  for (const [id, value] of [["a", 3], ["a", 4], ["c", 5], ["b", 6], ["b", 7]] as const) {
    await persist(id, value);
  }
  assert.equal(await eventLog.deleteEvents(typeName, "a", 3), 3);
  // "b" holds the type's newest events.
  assert.equal(await eventLog.deleteEntity(typeName, "b"), 2);
  await persist("d", 8);

  running = projection();
  await running.run();
  const state = await running.whenCaughtUp();
  await running.stop();
  assert.deepEqual(await handled(), ["a1", "a2", "a4", "c1", "d1"]);
  const positions = [];
  for await (const event of eventLog.eventsByType(typeName, 0)) positions.push(event.position);
  assert.equal(state.offset, positions.at(-1));
  assert.equal(await offsetStore.load(`deleted-${typeName}`), positions.at(-1));
  await eventLog.close();
});
