// Fault test: the servers fail under a running load. PostgreSQL backends of the library's
// connections are terminated (pg_terminate_backend), PostgreSQL crashes and restarts
// (pg_ctl restart -m immediate), nats-server is killed with SIGKILL and restarted. Commands
// fail with a HandleCommandError whose cause says what happened, each within a bound (none
// hangs); once the server is back every entity's commands succeed again; nothing acknowledged
// is lost or doubled, and every reply matches the state the log holds at that event.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import process from "node:process";
import { type EntityRef, type EventLog, isHandleCommandError, spawn } from "../mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type OwnPostgres, startOwnPostgres } from "./_faults/postgres.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  add,
  amountOf,
  Ledger,
  report,
  sleep,
  taggedBinarize,
  taggedCounter,
  type TaggedEvent,
  verifyLog,
  waitUntil,
} from "./_faults/load.ts";

let pg: OwnPostgres;
let nats: NatsTestServer;

before(async () => {
  pg = await startOwnPostgres();
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await new PostgresEventLog(sql).setup();
  } finally {
    await sql.end({ timeout: 5 });
  }
  nats = await startNatsServer({ own: true });
}, { timeout: 60_000 });

after(async () => {
  await pg?.stop();
  await nats?.dispose();
}, { timeout: 60_000 });

const ENTITIES = 6;
/** Acknowledged commands before the fault. */
const WARM_UP = 60;
/** Acknowledged commands per entity after the server is back. */
const AFTER = 15;
/** No command may take longer than this: a longer one is a hang. */
const COMMAND_BOUND = 20_000;

interface LoadRun {
  ledger: Ledger;
  failures: unknown[];
  hung: string[];
}

/**
 * Runs one worker per entity that sends tagged commands back to back; calls `fault` once
 * WARM_UP commands are acknowledged, then waits until each entity has AFTER replies that were
 * sent after `fault` returned.
 */
async function loadThrough(
  refs: readonly EntityRef<number, TaggedEvent>[],
  scenario: string,
  fault: (run: LoadRun) => Promise<void>,
): Promise<LoadRun> {
  const run: LoadRun = { ledger: new Ledger(), failures: [], hung: [] };
  // A failure that escapes as an unhandled rejection would end a Node application: record it.
  const escaped: unknown[] = [];
  const onUnhandled = (reason: unknown) => void escaped.push(reason);
  process.on("unhandledRejection", onUnhandled);
  let recovered = false;
  let stopped = false;
  const afterFault = refs.map(() => 0);
  const worker = async (index: number) => {
    const ref = refs[index]!;
    for (let n = 0; !stopped && n < 100_000; n++) {
      const tag = `${scenario}.${index}.${n}`;
      const sentAfter = recovered;
      run.ledger.send(ref.id, tag);
      try {
        const result = await within(
          ref.handleCommand(add(tag, amountOf(tag))),
          COMMAND_BOUND,
          `command ${tag}`,
        );
        assert.ok(result.ok);
        run.ledger.ack(tag, result.value);
        if (sentAfter) afterFault[index]!++;
      } catch (error) {
        if (!isHandleCommandError(error) && /no answer within/.test(String(error))) {
          run.hung.push(tag);
          return;
        }
        run.ledger.fail(tag, error);
        run.failures.push(error);
        await sleep(20);
      }
    }
  };
  const workers = Promise.all(refs.map((_, i) => worker(i)));
  try {
    await waitUntil("the warm-up", () => run.ledger.acked.size >= WARM_UP || run.hung.length > 0);
    await fault(run);
    recovered = true;
    await waitUntil(
      "replies on every entity after the fault",
      () => afterFault.every((n) => n >= AFTER) || run.hung.length > 0,
      60_000,
    );
  } finally {
    stopped = true;
    await workers;
    await sleep(200);
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(run.hung, [], "no command hangs");
  assert.deepEqual(
    escaped.map((e) => `${(e as { code?: string }).code ?? ""} ${e}`),
    [],
    "no failure escapes as an unhandled rejection (on Node it ends the process)",
  );
  return run;
}

/** Checks the failures' shape and returns one message as an example. */
function checkFailures(run: LoadRun, cause: RegExp): string {
  assert.ok(run.failures.length > 0, "the fault failed some commands");
  for (const error of run.failures) {
    assert.ok(isHandleCommandError(error), `a HandleCommandError, not ${error}`);
    assert.ok(
      error.reason === "persist-failed" || error.reason === "persist-outcome-unknown" ||
        error.reason === "resync-failed",
      `reason ${error.reason}`,
    );
    assert.ok(error.cause instanceof Error, "the cause is an Error");
    assert.match(error.cause.message, cause);
  }
  const example = run.failures[0] as Error;
  return `${example.message} <- ${(example.cause as Error).message}`;
}

async function spawnAll(
  typeName: string,
  eventLog: EventLog,
): Promise<EntityRef<number, TaggedEvent>[]> {
  const entity = taggedCounter(typeName);
  const refs = [];
  for (let i = 0; i < ENTITIES; i++) {
    refs.push(await spawn(entity, `e-${i}`, { eventLog, binarize: taggedBinarize }));
  }
  return refs;
}

async function finish(
  name: string,
  typeName: string,
  refs: readonly EntityRef<number, TaggedEvent>[],
  run: LoadRun,
  open: () => Promise<EventLog & { close(): Promise<void> }>,
  example: string,
): Promise<void> {
  for (const ref of refs) await ref.stop();
  const reader = await open();
  try {
    const verdict = await verifyLog(reader, typeName, refs.map((r) => r.id), run.ledger);
    report(name, verdict, `${run.failures.length} failed commands, e.g. ${example}`);
  } finally {
    await reader.close();
  }
}

// Each test's pool has its own application_name, so terminations aim at that pool alone.
const openPostgres = (app = "eventsourced-fault-reader") =>
  PostgresEventLog.connect({
    url: pg.url,
    max: 4,
    clientOptions: { connection: { application_name: app } },
  });

test(
  "pg_terminate_backend on the library's connections mid-load: commands fail clearly, recover, nothing acknowledged is lost",
  { timeout: 120_000 },
  async () => {
    const typeName = uniqueTypeName("terminate");
    const app = "eventsourced-fault-terminate";
    const eventLog = await openPostgres(app);
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const refs = await spawnAll(typeName, eventLog);
      let terminated = 0;
      const run = await loadThrough(refs, "terminate", async (run) => {
        // Terminate every connection of the load, again and again, until commands failed.
        for (let round = 0; round < 100 && (round < 5 || run.failures.length === 0); round++) {
          const rows = await admin`select pg_terminate_backend(pid) as done from pg_stat_activity
            where application_name = ${app} and pid <> pg_backend_pid()`;
          terminated += rows.filter((row) => row.done).length;
          await sleep(30 + Math.random() * 70);
        }
      });
      assert.ok(terminated > 0);
      const example = checkFailures(run, /PostgreSQL|connection|terminat/i);
      await finish("pg-terminate-backend", typeName, refs, run, () => openPostgres(), example);
    } finally {
      await admin.end({ timeout: 5 });
      await eventLog.close();
    }
  },
);

test(
  "PostgreSQL crash and restart mid-load: commands fail clearly, recover, nothing acknowledged is lost",
  { timeout: 150_000 },
  async () => {
    const typeName = uniqueTypeName("pgrestart");
    const eventLog = await openPostgres("eventsourced-fault-restart");
    try {
      const refs = await spawnAll(typeName, eventLog);
      const run = await loadThrough(refs, "pgrestart", async (run) => {
        await pg.restart("immediate");
        // The crash cut the commands in flight; wait for the entities to notice.
        await waitUntil("failed commands", () => run.failures.length > 0, 30_000);
      });
      const example = checkFailures(run, /PostgreSQL|connection|terminat|shut|start/i);
      await finish("postgres-restart", typeName, refs, run, () => openPostgres(), example);
    } finally {
      await eventLog.close();
    }
  },
);

test(
  "nats-server killed (SIGKILL) and restarted mid-load: commands fail clearly, recover, nothing acknowledged is lost",
  { timeout: 150_000 },
  async () => {
    const openNats = () => NatsEventLog.connect({ servers: nats.wsUrl, timeout: 2_000 });
    const eventLog = await openNats();
    try {
      await eventLog.setup();
      const typeName = uniqueTypeName("natsrestart");
      const refs = await spawnAll(typeName, eventLog);
      const run = await loadThrough(refs, "natsrestart", async (run) => {
        await nats.kill("SIGKILL");
        const before = run.failures.length;
        // While the server is away every entity's commands fail, each within the timeout.
        await waitUntil(
          "failed commands while the server is down",
          () => run.failures.length >= before + ENTITIES,
          30_000,
        );
        await nats.start();
      });
      const example = checkFailures(run, /NATS|timeout|TIMEOUT|connection|disconnect|closed/i);
      await finish("nats-restart", typeName, refs, run, openNats, example);
    } finally {
      await eventLog.close();
    }
  },
);

test(
  "pg_terminate_backend on connections as they start fails only the calls on them: nothing escapes as an unhandled rejection",
  { timeout: 120_000 },
  async () => {
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    const escaped: unknown[] = [];
    const onUnhandled = (reason: unknown) => void escaped.push(reason);
    process.on("unhandledRejection", onUnhandled);
    let hits = 0;
    const outcomes: string[] = [];
    try {
      // Fresh pools whose connections open all at once; every backend caught running its first
      // query is terminated. postgres.js by default looks up array types on each new
      // connection in a query whose failure escapes as an unhandled rejection; the adapter's
      // clients skip that lookup (fetch_types: false), so a termination now hits a call.
      for (let pool = 0; pool < 20 && hits < 5; pool++) {
        const app = `eventsourced-fault-startup-${pool}`;
        const eventLog = await openPostgres(app);
        let done = false;
        const killer = (async () => {
          while (!done) {
            const rows = await admin`select pg_terminate_backend(pid) from pg_stat_activity
              where application_name = ${app} and state = 'active'`;
            hits += rows.length;
          }
        })();
        const calls = await Promise.allSettled(
          Array.from(
            { length: 4 },
            (_, i) => within(eventLog.lastSeqNo("startup", `s-${i}`), COMMAND_BOUND, "lastSeqNo"),
          ),
        );
        done = true;
        await killer;
        for (const call of calls) {
          if (call.status === "fulfilled") outcomes.push(`answered ${call.value}`);
          else outcomes.push(String((call.reason as Error).message));
        }
        await eventLog.close();
      }
      await sleep(200);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await admin.end({ timeout: 5 });
    }
    console.log(
      `  start-up terminations: ${hits} backends hit, ${escaped.length} unhandled rejections`,
    );
    assert.ok(hits > 0, "some backend was terminated while running its first query");
    for (const outcome of outcomes) {
      assert.match(outcome, /^answered null$|^Cannot read the last seqNo of "startup\/s-\d"/);
    }
    assert.deepEqual(
      escaped.map((e) => `${(e as { code?: string }).code ?? ""} ${e}`),
      [],
      "no failure escapes as an unhandled rejection (on Node it ends the process)",
    );
  },
);
