// Least privilege on a real PostgreSQL server: an owner role runs setup(), and roles given only
// the statements of postgresGrants (or the README's copy of them) do their work: a writer
// persists and snapshots, a projection moves its offsets with its read model exactly once, a
// reader reads. What a role was not given, the server refuses, with a clear StorageError and
// nothing written.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import {
  PostgresEventLog,
  postgresGrants,
  PostgresKeyStore,
  PostgresOffsetStore,
  type PostgresRoleKind,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import type { NameOptions } from "../adapters/_sql/names.ts";
import { EventReader, isStorageError, jsonBinarize, spawn } from "../mod.ts";
import { MultiTypeProjection, Projection } from "../projection/mod.ts";
import { within } from "../testing/mod.ts";
import { counter, type CounterEvent, increase } from "./_counter.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";

let server: PostgresServer;
let superuser: postgres.Sql;
const clients: postgres.Sql[] = [];

before(async () => {
  server = await startPostgres({ fsync: false });
  superuser = postgres(server.url, { onnotice: () => {}, max: 2 });
});

after(async () => {
  for (const client of clients) await client.end({ timeout: 5 });
  await superuser?.end({ timeout: 5 });
  await server?.stop();
});

/** The URL of `role` (TCP roles authenticate with trust on the test server). */
function urlOf(role: string): string {
  const url = new URL(server.url);
  url.username = role;
  url.password = "";
  return url.href;
}

/** A client of `role`, ended after the tests. */
function connectAs(role: string): postgres.Sql {
  const client = postgres(urlOf(role), { onnotice: () => {}, max: 4, fetch_types: false });
  clients.push(client);
  return client;
}

/** The roles of one scenario, by kind. */
interface Roles {
  readonly owner: string;
  readonly writer: string;
  readonly projection: string;
  readonly reader: string;
}

const binarize = jsonBinarize<CounterEvent, number>();

// The README's SQL blocks under "### Least privilege on PostgreSQL", in order.
function readmeSqlBlocks(): string[] {
  const readme = readFileSync(join(process.cwd(), "README.md"), "utf8");
  const start = readme.indexOf("\n### Least privilege on PostgreSQL\n");
  assert.ok(start >= 0, "no Least privilege on PostgreSQL section in the README");
  const end = readme.indexOf("\n### ", start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sql\n([\s\S]*?)```\n/g)].map((match) => match[1]!);
}

function grantsOf(roles: Roles, options: Parameters<typeof postgresGrants>[2]): string[] {
  const kinds: [PostgresRoleKind, string][] = [
    ["writer", roles.writer],
    ["projection", roles.projection],
    ["reader", roles.reader],
  ];
  return kinds.flatMap(([kind, role]) => postgresGrants(kind, role, options));
}

function isPermissionDenied(table: RegExp) {
  return (error: unknown) => {
    assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
    assert.equal(error.reason, "permission-denied", error.message);
    assert.match(error.message, /permission denied/);
    assert.match(error.message, table);
    return true;
  };
}

async function countOf(sql: postgres.Sql, text: string): Promise<number> {
  const [row] = await sql.unsafe(text);
  return Number(row?.count);
}

async function isRefusedSql(run: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(run, (error: { code?: string; message: string }) => {
    assert.equal(error.code, "42501", error.message);
    assert.match(error.message, message);
    return true;
  });
}

test("postgresGrants refuses bad arguments, naming them, before returning any statement", () => {
  assert.throws(() => postgresGrants("admin" as never, "r"), {
    name: "TypeError",
    message: /Invalid kind "admin"/,
  });
  for (const role of ['r"; drop table t; --', "", "1role", "x".repeat(64)]) {
    assert.throws(() => postgresGrants("reader", role), { name: "TypeError", message: /roleName/ });
  }
  assert.throws(() => postgresGrants("reader", "r", { schema: "Shop" }), {
    name: "TypeError",
    message: /Invalid schema "Shop"/,
  });
  assert.throws(() => postgresGrants("reader", "r", { prefix: "x_" } as never), {
    name: "TypeError",
    message: /prefix/,
  });
  assert.throws(() => postgresGrants("writer", "r", { keys: "yes" } as never), {
    name: "RangeError",
    message: /keys/,
  });
});

test("the README's roles on the default names: its SQL, then each role's work and limits", async () => {
  const roles: Roles = {
    owner: "es_owner",
    writer: "es_writer",
    projection: "es_projection",
    reader: "es_reader",
  };
  const [create, grants] = readmeSqlBlocks();
  assert.ok(create && grants, "expected two SQL blocks in the README section");
  // The README's grants are what postgresGrants returns for the default names.
  assert.equal(grants, grantsOf(roles, {}).map((statement) => `${statement};\n`).join(""));

  await superuser.unsafe(create).simple();
  const owner = connectAs(roles.owner);
  await new PostgresEventLog(owner).setup();
  await owner.unsafe(grants).simple();

  await exercise(roles, {}, "read_models", false);
});

test("custom names with the keys of crypto-shredding: an owner with only its schema sets up", async () => {
  const roles: Roles = {
    owner: "shop_owner",
    writer: "shop_writer",
    projection: "shop_projection",
    reader: "shop_reader",
  };
  const names = { schema: "shop", tablePrefix: "orders_" };
  for (const role of Object.values(roles)) await superuser.unsafe(`create role ${role} login`);
  await superuser.unsafe("create schema shop authorization shop_owner");
  await superuser.unsafe("create schema shop_read authorization shop_projection");
  const [row] = await superuser`
    select has_database_privilege('shop_owner', current_database(), 'CREATE') as create`;
  assert.equal(row?.create, false, "the owner must not be able to create schemas");

  const owner = connectAs(roles.owner);
  await new PostgresEventLog(owner, names).setup();
  for (const statement of grantsOf(roles, { ...names, keys: true })) await owner.unsafe(statement);

  await exercise(roles, names, "shop_read", true);
});

/**
 * Real work as each role, and what each must not do, on the tables of `names` set up by
 * `roles.owner`; `readModels` is a schema the projection role owns.
 */
async function exercise(
  roles: Roles,
  names: NameOptions,
  readModels: string,
  keys: boolean,
): Promise<void> {
  const table = (name: string) =>
    `"${names.schema ?? "public"}"."${names.tablePrefix ?? "eventsourced_"}${name}"`;
  const eventsTable = new RegExp(`${names.tablePrefix ?? "eventsourced_"}events`);
  const owner = connectAs(roles.owner);
  const writerSql = connectAs(roles.writer);
  const projectionSql = connectAs(roles.projection);
  const readerSql = connectAs(roles.reader);

  // The writer: spawn persists and snapshots; a second log, which must check the entity's last
  // seqNo, appends through the append function.
  const eventLog = new PostgresEventLog(writerSql, names);
  const snapshotStore = new PostgresSnapshotStore(writerSql, names);
  const options = { eventLog, snapshotStore, snapshotAfter: 2, binarize };
  const ref = await spawn(counter, "c-1", options);
  for (const expected of [1, 2, 3]) {
    assert.deepEqual(await ref.handleCommand(increase(1)), { ok: true, value: expected });
  }
  await ref.stop();
  assert.equal((await snapshotStore.load("counter", "c-1"))?.seqNo, 2);
  const again = await spawn(counter, "c-1", options);
  assert.deepEqual(await again.handleCommand(increase(10)), { ok: true, value: 13 });
  await again.stop();
  const otherLog = new PostgresEventLog(writerSql, names);
  await otherLog.persist("counter", "c-1", 4, [
    binarize.eventToBytes({ type: "increased", by: 100 }),
  ]);
  await Promise.all(["c-2", "c-3", "c-4"].map((id, i) =>
    eventLog.persist("counter", id, null, [
      binarize.eventToBytes({ type: "increased", by: i + 1 }),
      binarize.eventToBytes({ type: "increased", by: i + 1 }),
    ])
  ));
  await eventLog.persist("audit", "a-1", null, [
    binarize.eventToBytes({ type: "increased", by: 7 }),
  ]);
  await eventLog.close();
  await otherLog.close();

  // The writer must not set up, change tables or delete events.
  await assert.rejects(
    new PostgresEventLog(writerSql, names).setup(),
    isPermissionDenied(/schema/),
  );
  const writerLog = new PostgresEventLog(writerSql, names);
  await assert.rejects(
    writerLog.deleteEntity("counter", "c-2"),
    isPermissionDenied(/permission denied for table/),
  );
  await writerLog.close();
  await isRefusedSql(writerSql.unsafe(`delete from ${table("events")}`), eventsTable);
  await isRefusedSql(writerSql.unsafe(`drop table ${table("events")}`), /must be owner/);
  await isRefusedSql(
    writerSql.unsafe(`alter table ${table("events")} add column x int`),
    /must be owner/,
  );
  assert.equal(
    await countOf(owner, `select count(*) from ${table("events")}`),
    12,
    "every event the writer persisted, none deleted",
  );

  if (keys) {
    const writerKeys = new PostgresKeyStore(writerSql, names);
    const key = { keyId: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(7) };
    assert.deepEqual(await writerKeys.create("counter", "c-1", key), key);
    assert.deepEqual(await writerKeys.get("counter", "c-1"), key);
    // Forgetting (deleting a key) stays with the owner.
    await assert.rejects(writerKeys.delete("counter", "c-1"), isPermissionDenied(/keys/));
    assert.deepEqual(await new PostgresKeyStore(readerSql, names).get("counter", "c-1"), key);
    await assert.rejects(
      new PostgresKeyStore(readerSql, names).create("counter", "c-9", key),
      isPermissionDenied(/keys/),
    );
  }

  // The projection: its read model in its own schema, with its offset in the same transaction.
  await projectionSql.unsafe(
    `create table ${readModels}.totals (id text primary key, total bigint not null)`,
  );
  await projectionSql.unsafe(`create table ${readModels}.applied (position bigint primary key)`);
  const projectionLog = new PostgresEventLog(projectionSql, names);
  const offsetStore = new PostgresOffsetStore(projectionSql, { ...names, lockPollMs: 50 });
  const totals = () =>
    new Projection("totals", {
      typeName: counter,
      eventLog: projectionLog,
      binarize,
      offsetStore,
      batchSize: 3,
      // The primary key of `applied` fails a second handling of an event.
      handleEvent: async ({ id, position, event }, { tx }) => {
        await tx.unsafe(`insert into ${readModels}.applied values ($1)`, [position]);
        await tx.unsafe(
          `insert into ${readModels}.totals values ($1, $2)
            on conflict (id) do update set total = totals.total + excluded.total`,
          [id, event.by],
        );
      },
    });
  let projection = totals();
  await projection.run();
  await within(projection.whenCaughtUp(), 20_000, "the projection catching up");
  await projection.stop();
  assert.equal(await offsetStore.load("totals"), 11);
  // A runner of the same name goes on from the stored offset: nothing twice, nothing lost.
  // Live reads' notifications need no grant: the reader hears the writer's commit.
  const channel = `${names.schema ?? "public"}_${names.tablePrefix ?? "eventsourced_"}events`;
  let heard: (typeName: string) => void = () => {};
  const notified = new Promise<string>((resolve) => (heard = resolve));
  const listening = await readerSql.listen(channel, (typeName) => heard(typeName));
  const lastLog = new PostgresEventLog(writerSql, names);
  await lastLog.persist("counter", "c-2", 2, [binarize.eventToBytes({ type: "increased", by: 5 })]);
  assert.equal(await within(notified, 10_000, "the reader's notification"), "counter");
  await listening.unlisten();
  await lastLog.close();
  projection = totals();
  await projection.run();
  await within(projection.whenCaughtUp(), 20_000, "the projection catching up again");
  await projection.stop();
  assert.equal(await offsetStore.load("totals"), 12);
  const rows = await projectionSql.unsafe(`select id, total from ${readModels}.totals order by id`);
  assert.deepEqual(rows.map((row) => [row.id, Number(row.total)]), [
    ["c-1", 113],
    ["c-2", 7],
    ["c-3", 4],
    ["c-4", 6],
  ]);
  assert.equal(await countOf(projectionSql, `select count(*) from ${readModels}.applied`), 12);

  // Over several types, the offsets per type.
  const multi = new MultiTypeProjection("per-type", {
    types: { counter: binarize, audit: binarize },
    eventLog: projectionLog,
    offsetStore,
    handleEvent: () => {},
  });
  await multi.run();
  const state = await within(multi.whenCaughtUp(), 20_000, "the multi-type projection");
  assert.deepEqual(state.offsets, { counter: 12, audit: 1 });
  await multi.stop();
  assert.deepEqual(
    await offsetStore.loadTypes("per-type", ["counter", "audit"]),
    new Map([["counter", 12], ["audit", 1]]),
  );

  // The projection must not write events or snapshots.
  await assert.rejects(
    projectionLog.persist("counter", "c-9", null, [
      binarize.eventToBytes({ type: "increased", by: 1 }),
    ]),
    isPermissionDenied(eventsTable),
  );
  await assert.rejects(
    new PostgresSnapshotStore(projectionSql, names).save("counter", "c-1", 5, new Uint8Array([1])),
    isPermissionDenied(/snapshots/),
  );
  await projectionLog.close();

  // The reader reads by id and by type, and loads snapshots.
  // As a process of its own would: connect() opens the reader's client (and close() ends it).
  const readerLog = await PostgresEventLog.connect({ url: urlOf(roles.reader), ...names });
  try {
    const reader = new EventReader("counter", { eventLog: readerLog, binarize });
    const byId = [];
    for await (const { seqNo, event } of reader.eventsById("c-1")) byId.push([seqNo, event.by]);
    assert.deepEqual(byId, [[1, 1], [2, 1], [3, 1], [4, 10], [5, 100]]);
    const byType = [];
    for await (const { id, position } of reader.eventsByType()) byType.push(`${position}:${id}`);
    assert.equal(byType.length, 12);
    assert.deepEqual(byType.slice(0, 5), ["1:c-1", "2:c-1", "3:c-1", "4:c-1", "5:c-1"]);
    assert.equal(
      (await new PostgresSnapshotStore(readerSql, names).load("counter", "c-1"))?.seqNo,
      4,
    );

    // The reader must not write: the persist fails naming the table, and nothing is stored.
    await assert.rejects(
      readerLog.persist("counter", "c-9", null, [
        binarize.eventToBytes({ type: "increased", by: 1 }),
      ]),
      isPermissionDenied(eventsTable),
    );
    const denied = await spawn(counter, "c-8", { eventLog: readerLog, binarize });
    const result = await denied.handleCommand(increase(1)).catch((error) => error);
    assert.equal(result?.reason, "persist-failed", String(result));
    isPermissionDenied(eventsTable)(result.cause);
    await denied.stop();
    await assert.rejects(
      new PostgresSnapshotStore(readerSql, names).save("counter", "c-1", 9, new Uint8Array([1])),
      isPermissionDenied(/snapshots/),
    );
  } finally {
    await readerLog.close();
  }
  assert.equal(
    await countOf(owner, `select count(*) from ${table("events")} where id in ('c-8', 'c-9')`),
    0,
    "nothing written by the reader or the projection",
  );

  // The owner keeps what the others were refused.
  const ownerLog = new PostgresEventLog(owner, names);
  assert.equal(await ownerLog.deleteEvents("counter", "c-1", 2), 2);
  assert.equal(await ownerLog.deleteEntity("counter", "c-3"), 2);
  await ownerLog.close();
}
