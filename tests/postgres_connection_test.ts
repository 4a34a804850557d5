// The PostgreSQL client layer: a projection starts on a fresh pool however the client was
// opened (postgres.js never hands over a reservation that opens a connection when
// `fetch_types` is off), a process that closed its log exits by itself also after its backends
// were terminated, `connect()` refuses unknown and invalid options before it leaves anything
// open. The scenarios that need a fresh pool, or that watch a process exit, run in a child
// process (tests/_faults/pg_connection_worker.ts) that the test kills after a bound.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { uniqueTypeName } from "../testing/mod.ts";
import {
  PostgresEventLog,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { type Child, startChild } from "./_faults/child.ts";
import type { ConnectionWorkerConfig } from "./_faults/pg_connection_worker.ts";

let pg: PostgresServer;

before(async () => {
  pg = await startPostgres({ fsync: false });
  const log = await PostgresEventLog.connect({ url: pg.url, max: 2 });
  try {
    await log.setup();
  } finally {
    await log.close();
  }
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  try {
    await new PostgresOffsetStore(sql).setup();
  } finally {
    await sql.end({ timeout: 5 });
  }
}, { timeout: 60_000 });

after(async () => {
  await pg?.stop();
}, { timeout: 60_000 });

// A child that has not exited by itself within this bound is killed and the test fails (it is
// generous: a child on a loaded machine takes seconds to start).
const EXIT_BOUND_MS = 45_000;

async function runChild(
  config: ConnectionWorkerConfig,
): Promise<{ lines: string[][]; child: Child }> {
  const child = startChild("pg_connection_worker", config);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.exited.then((exit) => ({ exit })),
    new Promise<undefined>((
      resolve,
    ) => (timer = setTimeout(() => resolve(undefined), EXIT_BOUND_MS))),
  ]);
  clearTimeout(timer);
  if (exited === undefined) {
    await child.kill();
    assert.fail(
      `the worker (${config.mode}) did not exit within ${EXIT_BOUND_MS} ms; it printed ` +
        `${JSON.stringify(child.lines)}; stderr: ${child.stderr().slice(-2_000)}`,
    );
  }
  assert.equal(
    exited.exit.code,
    0,
    `the worker (${config.mode}) failed: ${child.stderr().slice(-2_000)}`,
  );
  return { lines: child.lines, child };
}

async function writeEvents(typeName: string, count: number): Promise<void> {
  const log = await PostgresEventLog.connect({ url: pg.url, max: 2 });
  try {
    const event = new TextEncoder().encode('{"n":1}');
    for (let i = 0; i < count; i++) await log.persist(typeName, `e-${i}`, null, [event]);
  } finally {
    await log.close();
  }
}

for (const client of ["no-fetch-types", "fetch-types", "connect-log"] as const) {
  test(`a projection starts on a fresh pool (${client}) and catches up`, {
    timeout: 90_000,
  }, async () => {
    const typeName = uniqueTypeName("fresh");
    await writeEvents(typeName, 5);
    const { lines } = await runChild({ mode: "projection", url: pg.url, typeName, client });
    assert.deepEqual(lines, [["starting"], ["running"], ["caught-up", "5", "5"]]);
  });
}

test(
  "sql.reserve() as the first call of a fresh fetch_types:false pool is served through the offset store",
  {
    timeout: 30_000,
  },
  async () => {
    // In this process: the offset store's acquire() is the pool's first call.
    const sql = postgres(pg.url, { max: 3, fetch_types: false, onnotice: () => {} });
    try {
      const store = new PostgresOffsetStore(sql);
      const lease = await store.acquire("first-call");
      assert.equal(await lease.load(), 0);
      await lease.release();
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
);

test("a process exits by itself after close() although its backends were terminated under load", {
  timeout: 180_000,
}, async () => {
  const typeName = uniqueTypeName("exit");
  // It failed 2 of 3 runs before: three rounds.
  for (let round = 0; round < 3; round++) {
    const { lines } = await runChild({ mode: "terminate", url: pg.url, typeName });
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]![0], "closed");
  }
});

test("connect() with an invalid option rejects clearly and leaves the process free to exit", {
  timeout: 180_000,
}, async () => {
  const typeName = uniqueTypeName("invalid");
  for (const options of [{ pageSize: -1 }, { tablePrefix: "Bad-Prefix" }, { max: 0 }]) {
    const { lines } = await runChild({ mode: "invalid", url: pg.url, typeName, options });
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]![0], "rejected", lines[0]!.join(" "));
  }
});

test("connect() refuses an unknown option key before connecting, naming it and the known ones", async () => {
  // Port 1: nothing listens there, so a refusal that came from connecting would read otherwise.
  const url = "postgres://nobody@127.0.0.1:1/none";
  await assert.rejects(
    PostgresEventLog.connect({ uri: pg.url } as never),
    (error: Error) =>
      error instanceof TypeError && /"uri"/.test(error.message) && /\burl\b/.test(error.message),
  );
  await assert.rejects(
    PostgresSnapshotStore.connect({ url, maxx: 3 } as never),
    (error: Error) =>
      error instanceof TypeError && /"maxx"/.test(error.message) && /\bmax\b/.test(error.message),
  );
  await assert.rejects(
    PostgresEventLog.connect({ url, connectTimeout: -1 }),
    (error: Error) => error instanceof RangeError && /connectTimeout/.test(error.message),
  );
});

const WRITERS = 40;
const ROUNDS = 4;

test(
  "after every backend was terminated mid-load, commands flow again and nothing acknowledged is lost",
  { timeout: 120_000 },
  async () => {
    const typeName = uniqueTypeName("recover");
    const application = `recover_${Math.floor(Math.random() * 1e9)}`;
    const queryTimeout = 10_000;
    const log = await PostgresEventLog.connect({
      url: pg.url,
      max: 10,
      queryTimeout,
      clientOptions: { connection: { application_name: application } },
    });
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    const acked = new Map<string, number>(); // id → highest acknowledged seqNo
    let round = -1; // the round whose termination has happened
    const recovered = new Set<string>();
    let stop = false;
    const event = new TextEncoder().encode("{}");
    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      const id = `r-${writer}`;
      let last: number | null = null;
      while (!stop) {
        const startedIn = round;
        try {
          last = await log.persist(typeName, id, last, [event]);
          acked.set(id, last);
          if (startedIn >= 0 && startedIn === round) recovered.add(id);
        } catch {
          try {
            last = await log.lastSeqNo(typeName, id); // an unknown outcome may have landed
          } catch { /* still down: the next persist fails the same way */ }
        }
      }
    });
    try {
      while (acked.size < WRITERS) await new Promise((resolve) => setTimeout(resolve, 5));
      // The driver wedged after about one termination in three before: several rounds.
      for (let next = 0; next < ROUNDS; next++) {
        const killed = await admin`select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = ${application}`;
        assert.ok(killed.length > 0);
        recovered.clear();
        round = next;
        // The most a test may check of time: every writer is through within the query timeout.
        const bound = performance.now() + queryTimeout;
        while (recovered.size < WRITERS && performance.now() < bound) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(
          recovered.size,
          WRITERS,
          `round ${next}: writers that wrote again within ${queryTimeout} ms: ${recovered.size}`,
        );
      }
    } finally {
      stop = true;
      await Promise.all(writers);
      await admin.end({ timeout: 5 });
    }
    try {
      for (const [id, seqNo] of acked) {
        const seqNos: number[] = [];
        for await (const stored of log.eventsById(typeName, id, 1)) seqNos.push(stored.seqNo);
        assert.ok(seqNos.length >= seqNo, `${id}: ${seqNos.length} events, ${seqNo} acknowledged`);
        assert.deepEqual(seqNos, seqNos.map((_, i) => i + 1), `${id}: seqNos not dense`);
      }
    } finally {
      await log.close();
    }
  },
);
