// Integration tests of the PostgreSQL adapter against a real server: the one named by PG_URL,
// or one started for this file (initdb into a temporary folder, a free loopback port) and
// removed at the end.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  PostgresEventLog,
  PostgresSnapshotStore,
  SCHEMA_VERSION,
} from "../adapters/postgres/mod.ts";
import {
  isConcurrencyError,
  isSpawnError,
  isStorageError,
  jsonBinarize,
  type PersistedEvent,
  spawn,
} from "../mod.ts";
import {
  collect,
  take,
  testEventLog,
  testSnapshotStore,
  uniqueTypeName,
  within,
} from "../testing/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { freePort } from "./_servers/free_port.ts";
import { testSqlPages } from "./_sql_pages.ts";
import { testSqlMetadata } from "./_sql_metadata.ts";
import { testSqlUpgrade } from "./_sql_upgrade.ts";
import { postgresClient } from "../adapters/postgres/_client.ts";

let server: PostgresServer;
let sql: postgres.Sql;

before(async () => {
  server = await startPostgres({ fsync: false });
  sql = postgres(server.url, { onnotice: () => {} });
  await new PostgresEventLog(sql).setup();
}, { timeout: 60_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, { timeout: 60_000 });

const bytes = (...values: number[]) => new Uint8Array(values);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function assertStrictlyIncreasing(events: readonly PersistedEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    assert.ok(
      events[i]!.position > events[i - 1]!.position,
      `position ${events[i]!.position} after ${events[i - 1]!.position}`,
    );
  }
}

testEventLog("PostgresEventLog", () => new PostgresEventLog(sql), {
  dispose: (log) => (log as PostgresEventLog).close(),
  // A second pool of its own, so competing writers really are independent clients.
  sameStorage: () => PostgresEventLog.connect({ url: server.url, max: 4 }),
});

testSnapshotStore("PostgresSnapshotStore", () => new PostgresSnapshotStore(sql));

testSqlPages("PostgresEventLog", (options) => new PostgresEventLog(sql, options));

testSqlMetadata("PostgresEventLog", () => ({
  client: postgresClient(sql, false),
  log: (options) => new PostgresEventLog(sql, options),
}));

testSqlUpgrade("PostgresEventLog", () => ({
  client: postgresClient(sql, false),
  log: (options) => new PostgresEventLog(sql, options),
  snapshots: (options) => new PostgresSnapshotStore(sql, options),
}));

testSnapshotStore(
  "PostgresSnapshotStore keeping 3",
  () => new PostgresSnapshotStore(sql, { keep: 3 }),
);

test(
  "a live eventsByType reader sees every event exactly once, in position order, while transactions are held open before commit",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("noskip");
    const reader = await PostgresEventLog.connect({ url: server.url, max: 2, pollInterval: 50 });
    const pools = await Promise.all(
      Array.from({ length: 4 }, () => PostgresEventLog.connect({ url: server.url, max: 4 })),
    );
    const holders = 6;
    const holderEvents = 3;
    const writers = pools.length;
    const perWriter = 25;
    const total = holders * holderEvents + writers * perWriter;
    try {
      const seen = take(reader.eventsByType(typeName, 0, { live: true }), total, 60_000);
      const held = Array.from({ length: holders }, (_, h) =>
        // Each holder writes through the adapter inside its own transaction and keeps the
        // transaction open for a while before committing, some before and some after appending,
        // so commits and appends interleave with the plain writers in every order.
        sql.begin(async (tx) => {
          const log = new PostgresEventLog(tx as unknown as postgres.Sql);
          if (h % 2 === 0) await sleep(20 + 15 * h);
          await log.persist(typeName, `held-${h}`, null, [bytes(h, 0), bytes(h, 1)]);
          await sleep(40 + 25 * (holders - h));
          await log.persist(typeName, `held-${h}`, 2, [bytes(h, 2)]);
          await sleep(10 * h);
        }));
      const plain = pools.map(async (log, w) => {
        for (let i = 0; i < perWriter; i++) {
          await log.persist(typeName, `plain-${w}`, i === 0 ? null : i, [bytes(w, i)]);
          if (i % 5 === 0) await sleep(5);
        }
      });
      await Promise.all([...held, ...plain]);
      const events = await seen;
      assertStrictlyIncreasing(events);
      const keys = events.map((e) => `${e.id}/${e.seqNo}`);
      assert.equal(new Set(keys).size, total, "every event exactly once");
      for (let h = 0; h < holders; h++) {
        assert.deepEqual(events.filter((e) => e.id === `held-${h}`).map((e) => e.seqNo), [1, 2, 3]);
      }
      for (let w = 0; w < writers; w++) {
        const own = events.filter((e) => e.id === `plain-${w}`).map((e) => e.seqNo);
        assert.deepEqual(own, Array.from({ length: perWriter }, (_, i) => i + 1));
      }
      const finite = await collect(reader.eventsByType(typeName, 0));
      assert.deepEqual(finite.map((e) => e.position), events.map((e) => e.position));
      // Positions are dense per type name: no number was handed out and then lost.
      assert.deepEqual(
        events.map((e) => e.position),
        Array.from({ length: total }, (_, i) => events[0]!.position + i),
      );
    } finally {
      await reader.close();
      await Promise.all(pools.map((log) => log.close()));
    }
  },
);

test(
  "two PostgresEventLogs on two pools writing one entity: one write per seqNo wins, the other gets ConcurrencyError, the history never forks",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("pools");
    const first = await PostgresEventLog.connect({ url: server.url, max: 3 });
    const second = await PostgresEventLog.connect({ url: server.url, max: 3 });
    try {
      const rounds = 30;
      let last: number | null = null;
      const winners: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const results: PromiseSettledResult<number>[] = await Promise.allSettled([
          first.persist(typeName, "shared", last, [bytes(1, round), bytes(1, round, 1)]),
          second.persist(typeName, "shared", last, [bytes(2, round), bytes(2, round, 1)]),
        ]);
        const won: number[] = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
        assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
        const lost = results[1 - won[0]!]!;
        assert.equal(lost.status, "rejected");
        const error = (lost as PromiseRejectedResult).reason;
        assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
        assert.equal(error.expected, last);
        assert.equal(error.actual, (last ?? 0) + 2);
        winners.push(won[0] === 0 ? "first" : "second");
        last = (last ?? 0) + 2;
      }
      for (const log of [first, second]) {
        const events = await collect(log.eventsById(typeName, "shared", 1));
        assert.deepEqual(
          events.map((e) => e.seqNo),
          Array.from({ length: 2 * rounds }, (_, i) => i + 1),
        );
        for (let round = 0; round < rounds; round++) {
          const writer = winners[round] === "first" ? 1 : 2;
          assert.deepEqual([...events[2 * round]!.bytes], [writer, round]);
          assert.deepEqual([...events[2 * round + 1]!.bytes], [writer, round, 1]);
        }
      }
    } finally {
      await first.close();
      await second.close();
    }
  },
);

test(
  "group commit: persists of many entities issued together share a transaction, and a conflicting one fails alone",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("group");
    const log = new PostgresEventLog(sql);
    const transactions = async (prefix: string) =>
      (await sql`select count(*)::int as rows, count(distinct xmin::text)::int as transactions
        from eventsourced_events where type_name = ${typeName} and id like ${prefix + "%"}`)[0]!;

    // A few persists issued together: one batch, one transaction.
    const few = Array.from(
      { length: 10 },
      (_, i) => log.persist(typeName, `f${i}`, null, [bytes(i)]),
    );
    assert.deepEqual(await Promise.all(few), Array(10).fill(1));
    assert.deepEqual({ ...await transactions("f") }, { rows: 10, transactions: 1 });

    // Many, one of them conflicting: they go as one batch. The conflicting entity looks new to
    // this log, so its check is skipped and the batch fails on the primary key; it goes again
    // with every entity checked, the conflict fails alone and the rest is written together.
    await log.persist(typeName, "taken", null, [bytes(0)]);
    const ids = Array.from({ length: 64 }, (_, i) => `e${i}`);
    const results = await Promise.allSettled([
      ...ids.map((id, i) => log.persist(typeName, id, null, [bytes(i), bytes(i, 1)])),
      log.persist(typeName, "taken", null, [bytes(99)]),
    ]);
    const conflict = results.pop()!;
    assert.ok(results.every((r) => r.status === "fulfilled" && r.value === 2));
    assert.equal(conflict.status, "rejected");
    const error = (conflict as PromiseRejectedResult).reason;
    assert.ok(isConcurrencyError(error), `expected ConcurrencyError, got ${error}`);
    assert.equal(error.id, "taken");
    assert.equal(error.expected, null);
    assert.equal(error.actual, 1);
    const many = await transactions("e");
    assert.equal(many.rows, 128);
    assert.equal(many.transactions, 1, `${many.transactions} transactions for 64 entities`);
    assert.deepEqual(
      (await collect(log.eventsById(typeName, "taken", 1))).map((e) => [...e.bytes]),
      [[0]],
    );
    await log.close();
  },
);

test(
  "persist inside the caller's transaction commits and rolls back with it",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("tx");
    await sql.begin(async (tx) => {
      await new PostgresEventLog(tx as unknown as postgres.Sql).persist(typeName, "a", null, [
        bytes(1),
      ]);
    });
    const failed = await sql.begin(async (tx) => {
      await new PostgresEventLog(tx as unknown as postgres.Sql).persist(typeName, "a", 1, [
        bytes(2),
      ]);
      throw new Error("changed my mind");
    }).catch((e) => e);
    assert.equal((failed as Error).message, "changed my mind");
    const log = new PostgresEventLog(sql);
    assert.equal(await log.lastSeqNo(typeName, "a"), 1);
    assert.equal(await log.persist(typeName, "a", 1, [bytes(2)]), 2);
  },
);

test("a table prefix or schema with quotes, spaces or capitals is refused before any I/O", {
  timeout: 60_000,
}, async () => {
  for (const tablePrefix of ['x"; drop table y; --', "a b", "a-b", "Abc", "x".repeat(31)]) {
    assert.throws(
      () => new PostgresEventLog(sql, { tablePrefix }),
      (error: unknown) => error instanceof TypeError && /tablePrefix/.test(error.message),
    );
    assert.throws(() => new PostgresSnapshotStore(sql, { tablePrefix }), TypeError);
  }
  for (const schema of ['public"', "my schema", "", "1abc"]) {
    assert.throws(
      () => new PostgresEventLog(sql, { schema }),
      (error: unknown) => error instanceof TypeError && /schema/.test(error.message),
    );
  }
  // connect() checks the names before it opens a connection: port 1 is never dialled.
  const error = await PostgresEventLog.connect({
    url: "postgres://nobody@127.0.0.1:1/none",
    tablePrefix: "bad prefix",
  }).catch((e) => e);
  assert.ok(error instanceof TypeError && /tablePrefix/.test(error.message), String(error));
});

test("an id longer than 256 characters is refused with a RangeError and nothing is written", {
  timeout: 60_000,
}, async () => {
  const typeName = uniqueTypeName("long");
  const log = new PostgresEventLog(sql);
  const error = await log.persist(typeName, "x".repeat(257), null, [bytes(1)]).catch((e) => e);
  assert.ok(error instanceof RangeError && /id/.test(error.message), String(error));
  await assert.rejects(log.lastSeqNo(typeName, "x".repeat(257)), RangeError);
  assert.deepEqual(await collect(log.eventsByType(typeName, 0)), []);
  assert.equal(await log.persist(typeName, "x".repeat(256), null, [bytes(1)]), 1);
  const longest = "😀".repeat(128);
  assert.equal(await log.persist(typeName, longest, null, [bytes(2)]), 1);
  assert.deepEqual((await collect(log.eventsByType(typeName, 0))).map((e) => e.id.length), [
    256,
    256,
  ]);
});

test("a server that refuses the connection gives errors naming the address and the cause", {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const connectError = await PostgresEventLog.connect({ url, connectTimeout: 5 }).catch((e) => e);
  assert.ok(connectError instanceof Error, String(connectError));
  assert.match(
    connectError.message,
    new RegExp(`Cannot connect to PostgreSQL.*127\\.0\\.0\\.1:${port}`),
  );
  assert.match(connectError.message, /connection refused/);
  assert.ok(connectError.cause, "the driver's error is the cause");

  const storeError = await PostgresSnapshotStore.connect({ url }).catch((e) => e);
  assert.match(String(storeError?.message), /connection refused/);

  const unreachable = postgres(url, { onnotice: () => {}, connect_timeout: 5 });
  try {
    const log = new PostgresEventLog(unreachable);
    const persistError = await log.persist("counter", "a", null, [bytes(1)]).catch((e) => e);
    assert.match(persistError.message, /Cannot persist events for "counter\/a"/);
    assert.match(persistError.message, new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    const readError = await collect(log.eventsById("counter", "a", 1)).catch((e) => e);
    assert.match(readError.message, /Cannot read the events of "counter\/a".*connection refused/);
  } finally {
    await unreachable.end({ timeout: 0 });
  }
});

test(
  "using the tables before setup() fails with an error that names setup()",
  { timeout: 60_000 },
  async () => {
    const log = new PostgresEventLog(sql, { tablePrefix: "never_set_up_" });
    const error = await log.persist("counter", "a", null, [bytes(1)]).catch((e) => e);
    assert.match(error.message, /Cannot persist events for "counter\/a".*setup\(\)/);
    const store = new PostgresSnapshotStore(sql, { tablePrefix: "never_set_up_" });
    await assert.rejects(store.load("counter", "a"), /setup\(\)/);
  },
);

test("setup() is idempotent, safe to run concurrently, and honours schema and table prefix", {
  timeout: 60_000,
}, async () => {
  const options = { schema: "es_other", tablePrefix: "app_" };
  const logs = Array.from({ length: 4 }, () => new PostgresEventLog(sql, options));
  await Promise.all(logs.map((log) => log.setup()));
  await logs[0]!.setup();
  await new PostgresSnapshotStore(sql, options).setup();
  const versions = await sql`select version from es_other.app_schema_version order by version`;
  // Version 1 is created as released, then each step upgrades it, once.
  assert.deepEqual(
    versions.map((row) => row.version),
    Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
  );
  const tables = await sql`select table_name from information_schema.tables
    where table_schema = 'es_other' order by table_name`;
  assert.deepEqual(tables.map((row) => row.table_name), [
    "app_events",
    "app_keys",
    "app_position_floors",
    "app_projection_offsets",
    "app_schema_version",
    "app_snapshots",
    "app_type_offsets",
  ]);
  const typeName = uniqueTypeName("prefixed");
  await logs[1]!.persist(typeName, "a", null, [bytes(1)]);
  assert.deepEqual(await collect(new PostgresEventLog(sql).eventsByType(typeName, 0)), []);
  const rows = await sql`select id, seq_no::int, bytes, written_at from es_other.app_events
    where type_name = ${typeName}`;
  assert.equal(rows.length, 1);
  assert.deepEqual([...rows[0]!.bytes], [1]);
  assert.ok(rows[0]!.written_at instanceof Date, "write time is stored beside the bytes");
});

test("a writer behind the log is refused even where the probe was skipped, alone or in a batch", {
  timeout: 60_000,
}, async () => {
  const a = new PostgresEventLog(sql);
  const b = new PostgresEventLog(sql);
  const typeName = uniqueTypeName("stale");
  const conflict = (actual: number) => (error: unknown) =>
    isConcurrencyError(error) && error.expected === 1 && error.actual === actual;
  try {
    // `a` wrote seqNo 1 of "one" and "many", so its next appends expecting 1 skip the probe;
    // `b` has moved both on since.
    await a.persist(typeName, "one", null, [bytes(1)]);
    await a.persist(typeName, "many", null, [bytes(1)]);
    await b.persist(typeName, "one", 1, [bytes(2)]);
    await b.persist(typeName, "many", 1, [bytes(2), bytes(3)]);

    await assert.rejects(a.persist(typeName, "one", 1, [bytes(9)]), conflict(2));
    const [many, fresh, other] = await Promise.allSettled([
      a.persist(typeName, "many", 1, [bytes(9)]),
      a.persist(typeName, "fresh", null, [bytes(1)]),
      a.persist(typeName, "other", null, [bytes(1), bytes(2)]),
    ]);
    assert.ok(many.status === "rejected" && conflict(3)(many.reason), String(many));
    assert.deepEqual([fresh, other].map((r) => r.status === "fulfilled" && r.value), [1, 2]);

    const seqNos = async (id: string) =>
      (await collect(a.eventsById(typeName, id, 1))).map((e) => [e.seqNo, [...e.bytes]]);
    assert.deepEqual(await seqNos("one"), [[1, [1]], [2, [2]]]);
    assert.deepEqual(await seqNos("many"), [[1, [1]], [2, [2]], [3, [3]]]);
    // Once refused, the writer is checked again: the right seqNo is accepted.
    assert.equal(await a.persist(typeName, "many", 3, [bytes(4)]), 4);
  } finally {
    await a.close();
    await b.close();
  }
});

test(
  "a log that does not know an entity checks its seqNo in the plain statement: above or below the last is refused, alone, in a batch and with metadata",
  {
    timeout: 60_000,
  },
  async () => {
    const b = new PostgresEventLog(sql);
    const typeName = uniqueTypeName("unknown");
    const refused = (expected: number, actual: number) => (error: unknown) =>
      isConcurrencyError(error) && error.expected === expected && error.actual === actual;
    // Logs that never wrote the entities, so every append below is checked; `a` learns positions
    // from its first append and goes on with known positions, `c` has none.
    const a = new PostgresEventLog(sql);
    const c = new PostgresEventLog(sql);
    try {
      for (const id of ["x", "y", "z"]) {
        await b.persist(typeName, id, null, [
          bytes(1),
          bytes(2),
          bytes(3),
        ]);
      }
      for (const log of [a, c]) {
        // A gap (expected above the last) and a stale writer (below it), alone.
        await assert.rejects(log.persist(typeName, "x", 5, [bytes(9)]), refused(5, 3));
        await assert.rejects(log.persist(typeName, "x", 2, [bytes(9)]), refused(2, 3));
        await assert.rejects(
          log.persist(typeName, "x", 4, [bytes(9)], { metadata: { correlationId: "c" } }),
          refused(4, 3),
        );
      }
      // In one batch: the entity with the wrong seqNo is refused, the others are written.
      const [gap, right, fresh, tagged] = await Promise.allSettled([
        a.persist(typeName, "y", 7, [bytes(9)]),
        a.persist(typeName, "x", 3, [bytes(4)]),
        a.persist(typeName, "new", null, [bytes(1), bytes(2)]),
        a.persist(typeName, "z", 3, [bytes(4)], { metadata: { correlationId: "c" } }),
      ]);
      assert.ok(gap.status === "rejected" && refused(7, 3)(gap.reason), String(gap));
      assert.deepEqual(
        [right, fresh, tagged].map((r) => r.status === "fulfilled" && r.value),
        [4, 2, 4],
      );
      assert.equal(await c.persist(typeName, "y", 3, [bytes(4)]), 4);
      assert.equal(await a.persist(typeName, "y", 4, [bytes(5)]), 5);
      const events = await collect(b.eventsByType(typeName, 0));
      assert.deepEqual(events.map((e) => e.position), events.map((_, i) => i + 1));
      const of = (id: string) =>
        events.filter((e) => e.id === id).map((e) => [e.seqNo, e.bytes[0]]);
      assert.deepEqual(of("x"), [[1, 1], [2, 2], [3, 3], [4, 4]]);
      assert.deepEqual(of("y"), [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
      assert.deepEqual(of("z"), [[1, 1], [2, 2], [3, 3], [4, 4]]);
      assert.deepEqual(of("new"), [[1, 1], [2, 2]]);
      assert.equal(events.find((e) => e.id === "z" && e.seqNo === 4)?.metadata.correlationId, "c");
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  },
);

for (const numbering of ["known position", "lock and probe"]) {
  test(
    `an append numbered by ${numbering} whose position another writer took goes again, positions dense`,
    { timeout: 60_000 },
    async () => {
      const typeName = uniqueTypeName("taken");
      const log = new PostgresEventLog(sql);
      const other = postgres(server.url, { max: 1, onnotice: () => {} });
      try {
        await log.persist(typeName, "a", null, [bytes(1)]);
        // Another writer numbers an event from the same last position as the append below will,
        // without the advisory lock (the race of positions.ts: a commit between the plain
        // statement's snapshot and its lock), and commits while that append waits at the index.
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let inserted!: () => void;
        const isInserted = new Promise<void>((resolve) => (inserted = resolve));
        const holding = other.begin(async (tx) => {
          await tx.unsafe(
            `insert into eventsourced_events (type_name, id, seq_no, position, bytes)
          select $1::text, 'other', 1, max(position) + 1, '\\x02'::bytea
          from eventsourced_events where type_name = $1::text`,
            [typeName],
          );
          inserted();
          await released;
        });
        await isInserted;
        // The log that wrote seqNo 1 knows the last position; a fresh one locks and probes.
        const writer = numbering === "known position" ? log : new PostgresEventLog(sql);
        const appended = writer.persist(typeName, "a", 1, [bytes(3)]);
        await sleep(100);
        release();
        await holding;
        assert.equal(await appended, 2);
        const events = await collect(log.eventsByType(typeName, 0));
        assert.deepEqual(events.map((e) => [e.id, e.seqNo, [...e.bytes]]), [
          ["a", 1, [1]],
          ["other", 1, [2]],
          ["a", 2, [3]],
        ]);
        const first = events[0]!.position;
        assert.deepEqual(events.map((e) => e.position), [first, first + 1, first + 2]);
      } finally {
        await other.end();
        await log.close();
      }
    },
  );
}

test("setup() refuses a schema written by a newer release", { timeout: 60_000 }, async () => {
  const options = { tablePrefix: "future_" };
  await new PostgresEventLog(sql, options).setup();
  await sql`insert into future_schema_version (version) values (${SCHEMA_VERSION + 1})`;
  const error = await new PostgresEventLog(sql, options).setup().catch((e) => e);
  assert.ok(isStorageError(error) && error.reason === "invalid-configuration", String(error));
  assert.match(
    String(error?.message),
    new RegExp(
      `Cannot set up the event log.*version ${SCHEMA_VERSION + 1}.*up to version ${SCHEMA_VERSION}`,
    ),
  );
});

test(
  "a live read in one pool wakes on NOTIFY when another pool appends",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("notify");
    // The poll interval is far longer than the test's timeout: only the notification can wake it.
    const reader = await PostgresEventLog.connect({ url: server.url, pollInterval: 600_000 });
    const writer = await PostgresEventLog.connect({ url: server.url });
    try {
      const live = take(reader.eventsByType(typeName, 0, { live: true }), 2, 20_000);
      await sleep(300);
      await writer.persist(typeName, "a", null, [bytes(1)]);
      await sleep(100);
      await writer.persist(typeName, "b", null, [bytes(2)]);
      assert.deepEqual((await live).map((e) => [...e.bytes]), [[1], [2]]);
    } finally {
      await reader.close();
      await writer.close();
    }
  },
);

/**
 * Listens on the default channel from a connection of its own; `atLeast(n)` waits (up to 2 s)
 * for `n` notifications of `typeName` and returns how many came.
 */
async function notificationsOf(typeName: string) {
  const payloads: string[] = [];
  const listener = postgres(server.url, { max: 1, onnotice: () => {} });
  await listener.listen("public_eventsourced_events", (payload) => payloads.push(payload));
  const count = () => payloads.filter((payload) => payload === typeName).length;
  return {
    async atLeast(n: number): Promise<number> {
      for (let i = 0; i < 100 && count() < n; i++) await sleep(20);
      return count();
    },
    end: () => listener.end(),
  };
}

test(
  "appends in quick succession wake a live reader in another pool, announced by paced NOTIFYs",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("paced");
    const reader = await PostgresEventLog.connect({ url: server.url, pollInterval: 600_000 });
    const writer = await PostgresEventLog.connect({ url: server.url, notifyInterval: 200 });
    const notifications = await notificationsOf(typeName);
    try {
      const live = take(reader.eventsByType(typeName, 0, { live: true }), 20, 20_000);
      await sleep(300);
      // The first append carries a NOTIFY; the reader reads its event and waits again. The 19
      // that follow within the interval carry none: only the NOTIFY sent after them can wake it.
      await writer.persist(typeName, "e0", null, [bytes(0)]);
      await sleep(100);
      for (let i = 1; i < 20; i++) {
        await writer.persist(typeName, `e${i}`, null, [bytes(i)]);
      }
      const events = await live;
      assert.deepEqual(events.map((e) => e.bytes[0]), Array.from({ length: 20 }, (_, i) => i));
      const count = await notifications.atLeast(2);
      assert.ok(count >= 2 && count < 20, `${count} notifications for 20 appends`);
    } finally {
      await notifications.end();
      await reader.close();
      await writer.close();
    }
  },
);

test(
  "batches at the known position are dense and carry NOTIFY when due, with notifyInterval 0 every time",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("batches");
    const log = new PostgresEventLog(sql, { notifyInterval: 0 });
    const notifications = await notificationsOf(typeName);
    try {
      // Round 1 numbers with lock and probe; rounds 2 and 3 after the position this log knows.
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from(
            { length: 8 },
            (_, i) => log.persist(typeName, `e${i}`, round === 0 ? null : round, [bytes(round)]),
          ),
        );
      }
      const events = await collect(log.eventsByType(typeName, 0));
      assert.equal(events.length, 24);
      const first = events[0]!.position;
      assert.deepEqual(events.map((e) => e.position), events.map((_, i) => first + i));
      assert.ok(await notifications.atLeast(3) >= 3, "one per batch at least");
    } finally {
      await notifications.end();
      await log.close();
    }
  },
);

test(
  "aborting a live read gives its connection back to the pool",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("abort");
    const log = await PostgresEventLog.connect({ url: server.url, max: 1, pollInterval: 20 });
    try {
      await log.persist(typeName, "a", null, [bytes(1)]);
      for (let i = 0; i < 5; i++) {
        const controller = new AbortController();
        const reader = log.eventsByType(typeName, 0, { live: true, signal: controller.signal })
          .getReader();
        assert.equal((await reader.read()).value?.seqNo, 1);
        const pending = reader.read().catch((e) => e);
        await sleep(30);
        controller.abort(new Error(`stop ${i}`));
        assert.equal((await pending).message, `stop ${i}`);
      }
      // With one connection in the pool, these only answer if no read still holds it.
      assert.equal(await within(log.lastSeqNo(typeName, "a"), 5_000, "lastSeqNo"), 1);
      assert.equal(await within(log.persist(typeName, "a", 1, [bytes(2)]), 5_000, "persist"), 2);
    } finally {
      await log.close();
    }
  },
);

test("snapshots: keep-last-N keeps the newest N rows and an older save changes nothing", {
  timeout: 60_000,
}, async () => {
  const typeName = uniqueTypeName("keep");
  const store = new PostgresSnapshotStore(sql, { keep: 2 });
  for (const seqNo of [1, 2, 3, 4, 5]) await store.save(typeName, "a", seqNo, bytes(seqNo));
  await store.save(typeName, "a", 3, bytes(33));
  const kept = await sql`select seq_no::int as seq, written_at from eventsourced_snapshots
    where type_name = ${typeName} order by seq_no`;
  assert.deepEqual(kept.map((row) => row.seq), [4, 5]);
  assert.ok(kept.every((row) => row.written_at instanceof Date));
  const loaded = await store.load(typeName, "a");
  assert.equal(loaded?.seqNo, 5);
  assert.deepEqual([...loaded!.bytes], [5]);
  const single = new PostgresSnapshotStore(sql);
  await single.save(typeName, "b", 7, bytes(7));
  await single.save(typeName, "b", 9, bytes(9));
  await single.save(typeName, "b", 8, bytes(8));
  const rows = await sql`select seq_no::int as seq from eventsourced_snapshots
    where type_name = ${typeName} and id = 'b'`;
  assert.deepEqual(rows.map((row) => row.seq), [9]);
});

test("stored bytes that fail to decode make spawn fail naming the entity and seqNo", {
  timeout: 60_000,
}, async () => {
  const typeName = uniqueTypeName("decode");
  const eventLog = new PostgresEventLog(sql);
  const encoder = new TextEncoder();
  await eventLog.persist(typeName, "a", null, [encoder.encode("1"), encoder.encode("{not json")]);
  const entity = { typeName, initialState: 0, handleEvent: (n: number, by: number) => n + by };
  const error = await spawn(entity, "a", { eventLog, binarize: jsonBinarize<number, number>() })
    .catch((e) => e);
  assert.ok(isSpawnError(error), String(error));
  assert.match(
    `${error.message} ${(error.cause as Error | undefined)?.message}`,
    new RegExp(`${typeName}/a.*seqNo 2`),
  );
});

test(
  "a persist aborted while it waits for the group commit is rejected with the reason and writes nothing",
  { timeout: 60_000 },
  async () => {
    const typeName = uniqueTypeName("queued");
    const log = new PostgresEventLog(sql);
    const first = log.persist(typeName, "a", null, [bytes(1)]);
    // Let the first batch go out, so the next persist of this type name has to wait for it.
    await Promise.resolve();
    await Promise.resolve();
    const controller = new AbortController();
    const waiting = log.persist(typeName, "b", null, [bytes(2)], { signal: controller.signal });
    controller.abort(new Error("no longer needed"));
    assert.equal((await waiting.catch((e) => e)).message, "no longer needed");
    assert.equal(await first, 1);
    assert.equal(await log.lastSeqNo(typeName, "b"), null);
    assert.equal(await log.persist(typeName, "b", null, [bytes(3)]), 1);
  },
);

test("aborting a read whose query is stuck on the server cancels the query there", {
  timeout: 60_000,
}, async () => {
  const tablePrefix = "stuck_";
  const log = await PostgresEventLog.connect({ url: server.url, max: 1, tablePrefix });
  const holder = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    await log.setup();
    await log.persist("counter", "a", null, [bytes(1)]);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // Another session holds the events table so that the read's query has to wait.
    const holding = holder.begin(async (tx) => {
      await tx.unsafe(`lock table ${tablePrefix}events in access exclusive mode`);
      locked();
      await released;
    });
    await isLocked;
    const controller = new AbortController();
    const read = collect(log.eventsById("counter", "a", 1, { signal: controller.signal }))
      .catch((e) => e);
    await sleep(100);
    controller.abort(new Error("gave up"));
    assert.equal((await read).message, "gave up");
    // The server no longer has a query of the read's session waiting for the lock.
    let waiting = 1;
    for (let i = 0; i < 50 && waiting > 0; i++) {
      await sleep(100);
      waiting = (await sql`select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and query like '%stuck_events%'`)[0]!.n;
    }
    assert.equal(waiting, 0, "the stuck query was cancelled");
    release();
    await holding;
    assert.equal(await within(log.lastSeqNo("counter", "a"), 5_000, "lastSeqNo"), 1);
  } finally {
    await holder.end({ timeout: 5 });
    await log.close();
  }
});

test("a query with no answer within queryTimeout fails clearly instead of hanging, and the log goes on", async () => {
  const typeName = uniqueTypeName("timeout");
  const log = new PostgresEventLog(sql, { queryTimeout: 300 });
  await log.persist(typeName, "a", null, [bytes(1)]);
  const blocker = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = blocker.begin(async (tx) => {
      await tx.unsafe(`lock table "public"."eventsourced_events" in access exclusive mode`);
      locked();
      await released;
    });
    await isLocked;
    const started = Date.now();
    const error = await log.persist(typeName, "a", 1, [bytes(2)]).then(() => null, (e) => e);
    const waited = Date.now() - started;
    // A read that times out changed nothing: reason timeout; the write may have landed.
    const readError = await log.lastSeqNo(typeName, "a").then(() => null, (e) => e);
    release();
    await holding;
    // The timed-out append may still be running at the server (a cancel can come too late):
    // wait until no other client query runs, so the log is settled before it is read.
    for (let i = 0; i < 100; i++) {
      const [row] = await blocker`select count(*)::int as n from pg_stat_activity
        where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()`;
      if (row!.n === 0) break;
      await sleep(50);
    }
    assert.ok(error instanceof Error, "the persist failed");
    assert.match(String(error.message), /no answer from PostgreSQL within 300 ms/);
    assert.ok(isStorageError(error) && error.reason === "outcome-unknown", String(error));
    assert.ok(isStorageError(readError) && readError.reason === "timeout", String(readError));
    assert.ok(waited < 5_000, `failed after ${waited} ms, not after the lock was gone`);
    const last = await log.lastSeqNo(typeName, "a");
    assert.ok(
      last === 1 || last === 2,
      `the log holds the first event and at most the timed-out one: ${last}`,
    );
    assert.equal(await log.persist(typeName, "a", last, [bytes(3)]), last! + 1);
    assert.deepEqual(
      (await collect(log.eventsById(typeName, "a", 1))).map((e) => e.seqNo),
      Array.from({ length: last! + 1 }, (_, i) => i + 1),
    );
  } finally {
    await blocker.end({ timeout: 5 });
    await log.close();
  }
});

test("queryTimeout must be a positive number of milliseconds", () => {
  assert.throws(() => new PostgresEventLog(sql, { queryTimeout: 0 }), /queryTimeout 0/);
  assert.throws(() => new PostgresSnapshotStore(sql, { queryTimeout: -5 }), /queryTimeout -5/);
});
