// The PostgreSQL adapter's failures as StorageErrors with the reasons a program acts on,
// produced for real against a server of this file's own; the maximum event and snapshot sizes;
// unknown option keys; and idle live readers sharing one poll per type name (counted with
// pg_stat_statements).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  PostgresEventLog,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import { isConcurrencyError, isStorageError, type StorageFailure } from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { freePort } from "./_servers/free_port.ts";

let server: PostgresServer;
let sql: postgres.Sql;

before(async () => {
  server = await startPostgres({
    fsync: false,
    settings: { shared_preload_libraries: "pg_stat_statements" },
  });
  sql = postgres(server.url, { onnotice: () => {} });
  await sql`create extension if not exists pg_stat_statements`;
  await new PostgresEventLog(sql).setup();
}, { timeout: 60_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, { timeout: 60_000 });

const bytes = (...values: number[]) => new Uint8Array(values);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const storageError = (reason: StorageFailure, message?: RegExp) => (error: unknown) =>
  isStorageError(error) && error.reason === reason && (message?.test(error.message) ?? true) &&
  error.cause !== undefined;

test("tables that were never set up: schema-missing, naming setup()", async () => {
  const log = new PostgresEventLog(sql, { tablePrefix: "never_set_up_" });
  await assert.rejects(
    log.persist("counter", "a", null, [bytes(1)]),
    storageError("schema-missing", /Cannot persist events for "counter\/a".*setup\(\)/),
  );
  await assert.rejects(log.lastSeqNo("counter", "a"), storageError("schema-missing"));
  await assert.rejects(collect(log.eventsByType("counter", 0)), storageError("schema-missing"));
  const store = new PostgresSnapshotStore(sql, { tablePrefix: "never_set_up_" });
  await assert.rejects(store.load("counter", "a"), storageError("schema-missing", /setup\(\)/));
  const offsets = new PostgresOffsetStore(sql, { tablePrefix: "never_set_up_" });
  await assert.rejects(offsets.load("totals"), storageError("schema-missing"));
});

test("a closed log refuses every call with reason closed, and ends its live reads", async () => {
  const log = new PostgresEventLog(sql, { pollInterval: 600_000 });
  const typeName = uniqueTypeName("closed");
  await log.persist(typeName, "a", null, [bytes(1)]);
  // Handled from the start: the read fails while close() runs.
  const live = collect(log.eventsByType(typeName, 0, { live: true })).then(
    () => new Error("the live read ended without an error"),
    (error: unknown) => error,
  );
  await sleep(200);
  await log.close();
  const isClosed = (e: unknown) => isStorageError(e) && e.reason === "closed";
  assert.ok(isClosed(await within(live, 5_000, "the live read")));
  await assert.rejects(log.persist(typeName, "a", 1, [bytes(2)]), isClosed);
  await assert.rejects(log.lastSeqNo(typeName, "a"), isClosed);
  await assert.rejects(log.setup(), isClosed);
  assert.equal(await new PostgresEventLog(sql).lastSeqNo(typeName, "a"), 1, "nothing written");
});

test("a server nobody listens on: unavailable for reads and writes, naming the address", {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const unreachable = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, {
    onnotice: () => {},
    connect_timeout: 5,
  });
  try {
    const log = new PostgresEventLog(unreachable);
    await assert.rejects(
      log.persist("counter", "a", null, [bytes(1)]),
      storageError("unavailable", new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`)),
    );
    await assert.rejects(collect(log.eventsById("counter", "a", 1)), storageError("unavailable"));
    const store = new PostgresSnapshotStore(unreachable);
    await assert.rejects(store.save("counter", "a", 1, bytes(1)), storageError("unavailable"));
  } finally {
    await unreachable.end({ timeout: 0 });
  }
});

test("an append whose backend is terminated while it waits is outcome-unknown", {
  timeout: 60_000,
}, async () => {
  const typeName = uniqueTypeName("terminated");
  const log = await PostgresEventLog.connect({
    url: server.url,
    max: 2,
    clientOptions: { connection: { application_name: "terminated_append" } },
  });
  const holder = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    // Hold the type name's advisory lock (positions.ts), so the append waits on the server.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = holder.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('eventsourced:public.eventsourced_'),
        hashtext(${typeName}))`;
      locked();
      await released;
    });
    await isLocked;
    const appended = log.persist(typeName, "a", null, [bytes(1)]);
    appended.catch(() => {});
    let pids: { pid: number }[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      await sleep(25);
      pids = await sql`select pid from pg_stat_activity
        where application_name = 'terminated_append' and wait_event_type = 'Lock'`;
    }
    assert.equal(pids.length, 1, "the append waits for the lock");
    await sql`select pg_terminate_backend(${pids[0]!.pid})`;
    await assert.rejects(
      within(appended, 20_000, "the append"),
      storageError("outcome-unknown", /Cannot persist events for .*may have landed/),
    );
    release();
    await holding;
    // The log goes on, on a new connection.
    const last = await log.lastSeqNo(typeName, "a");
    assert.equal(await log.persist(typeName, "a", last, [bytes(2)]), (last ?? 0) + 1);
  } finally {
    await holder.end({ timeout: 5 });
    await log.close();
  }
});

test("backends terminated under load: every persist reported failed is absent from the log", {
  timeout: 120_000,
}, async () => {
  const typeName = uniqueTypeName("load-terminated");
  const log = await PostgresEventLog.connect({
    url: server.url,
    max: 4,
    queryTimeout: 5_000,
    clientOptions: { connection: { application_name: "terminated_load" } },
  });
  const reader = new PostgresEventLog(sql);
  const entities = 12;
  const attempts = 25;
  const failed: { id: string; payload: number[]; reason: string }[] = [];
  const acknowledged: { id: string; payload: number[] }[] = [];
  let acks = 0;
  let terminated!: () => void;
  const isTerminated = new Promise<void>((resolve) => (terminated = resolve));
  try {
    const writers = Array.from({ length: entities }, async (_, e) => {
      const id = `e${e}`;
      let last: number | null = null;
      for (let a = 0; a < attempts; a++) {
        const payload = [e, a];
        try {
          last = await log.persist(typeName, id, last, [new Uint8Array(payload)]);
          acknowledged.push({ id, payload });
          if (++acks === entities * 5) {
            await sql`select pg_terminate_backend(pid) from pg_stat_activity
              where application_name = 'terminated_load'`;
            terminated();
          }
        } catch (error) {
          if (isConcurrencyError(error)) {
            failed.push({ id, payload, reason: "conflict" });
          } else {
            assert.ok(isStorageError(error), String(error));
            failed.push({ id, payload, reason: error.reason });
          }
          last = await reader.lastSeqNo(typeName, id);
        }
      }
    });
    await Promise.all(writers);
    await isTerminated;
    const stored = new Set(
      (await collect(reader.eventsByType(typeName, 0))).map((event) =>
        `${event.id}:${[...event.bytes]}`
      ),
    );
    for (const { id, payload } of acknowledged) {
      assert.ok(stored.has(`${id}:${payload}`), `acknowledged ${id} ${payload} is in the log`);
    }
    for (const { id, payload, reason } of failed) {
      if (reason === "outcome-unknown") continue;
      assert.ok(!stored.has(`${id}:${payload}`), `${id} ${payload} failed (${reason}) but landed`);
    }
    assert.ok(
      failed.every(({ reason }) => reason === "outcome-unknown" || reason === "unavailable"),
      JSON.stringify(failed.map(({ reason }) => reason)),
    );
  } finally {
    await log.close();
    await reader.close();
  }
});

test("an event or snapshot above the maximum is refused as too-large, nothing written", async () => {
  const typeName = uniqueTypeName("too-large");
  const log = new PostgresEventLog(sql, { maxEventBytes: 1024 });
  try {
    await assert.rejects(
      log.persist(typeName, "a", null, [bytes(1), new Uint8Array(1025)]),
      (error: unknown) =>
        isStorageError(error) && error.reason === "too-large" && /events\[1\]/.test(error.message),
    );
    assert.equal(await log.lastSeqNo(typeName, "a"), null);
    assert.equal(await log.persist(typeName, "a", null, [new Uint8Array(1024)]), 1);
    // The default is 4 MiB.
    await assert.rejects(
      new PostgresEventLog(sql).persist(typeName, "b", null, [new Uint8Array(4 * 1024 * 1024 + 1)]),
      (error: unknown) => isStorageError(error) && error.reason === "too-large",
    );
    assert.equal(await log.lastSeqNo(typeName, "b"), null);
    assert.throws(
      () => new PostgresEventLog(sql, { maxEventBytes: 1024 * 1024 * 1024 }),
      /maxEventBytes/,
    );
    const store = new PostgresSnapshotStore(sql, { maxSnapshotBytes: 100 });
    await assert.rejects(
      store.save(typeName, "a", 1, new Uint8Array(101)),
      (error: unknown) => isStorageError(error) && error.reason === "too-large",
    );
    assert.equal(await store.load(typeName, "a"), null);
    await store.save(typeName, "a", 1, new Uint8Array(100));
    assert.equal((await store.load(typeName, "a"))?.bytes.length, 100);
  } finally {
    await log.close();
  }
});

test("unknown option keys are refused, naming the key and the known ones", async () => {
  const unknown = (key: string) => (error: unknown) =>
    error instanceof TypeError && error.message.includes(key) &&
    /known options are/.test(error.message);
  assert.throws(
    () => new PostgresEventLog(sql, { pollIntervall: 1 } as never),
    unknown("pollIntervall"),
  );
  assert.throws(() => new PostgresSnapshotStore(sql, { kep: 1 } as never), unknown("kep"));
  assert.throws(() => new PostgresOffsetStore(sql, { lockPoll: 1 } as never), unknown("lockPoll"));
  const log = new PostgresEventLog(sql);
  try {
    assert.throws(() => log.eventsByType("t", 0, { lve: true } as never), unknown("lve"));
    assert.throws(
      () => log.eventsById("t", "a", 0, { signl: undefined } as never),
      unknown("signl"),
    );
    await assert.rejects(
      log.persist("t", "a", null, [bytes(1)], { sigal: undefined } as never),
      unknown("sigal"),
    );
    await assert.rejects(log.lastSeqNo("t", "a", { wait: 1 } as never), unknown("wait"));
  } finally {
    await log.close();
  }
});

test("idle live readers of one type name share one poll", { timeout: 60_000 }, async () => {
  const typeName = uniqueTypeName("idle");
  const pollInterval = 50;
  const readers = 40;
  const log = new PostgresEventLog(sql, { pollInterval });
  const controller = new AbortController();
  try {
    await log.persist(typeName, "a", null, [bytes(1)]);
    const streams = Array.from(
      { length: readers },
      () =>
        collect(log.eventsByType(typeName, 0, { live: true, signal: controller.signal })).catch(
          () => [],
        ),
    );
    await sleep(500); // every reader has read the event and waits
    await sql`select pg_stat_statements_reset()`;
    await sleep(20 * pollInterval);
    const [row] = await sql`select coalesce(sum(calls), 0)::int as calls from pg_stat_statements
      where query like '%eventsourced_events%' and query not like '%pg_stat_statements%'`;
    // One reader alone polls about 20 times in this window; 40 readers polling on their own
    // would query about 800 times.
    assert.ok(row!.calls <= 40, `${row!.calls} queries of the events table in 20 poll intervals`);
    controller.abort();
    await Promise.all(streams);
  } finally {
    await log.close();
  }
});
