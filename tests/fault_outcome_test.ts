// Fault test: outcomes told to the caller are true. On every backend, commands run under load
// while their signals abort at random moments, and the connection under the log is dropped or
// closed with persists in flight (PostgreSQL: its backends terminated; NATS: the connection
// closed; PGlite: the database closed; memory: signals only). Afterwards a fresh log reads
// everything back: no command reported as failed (any reason but persist-outcome-unknown) is in
// the log, every acknowledged command is there exactly once, and nothing is doubled.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { wsconnect } from "@nats-io/nats-core";
import {
  type EntityRef,
  type EventLog,
  type HandleCommandFailure,
  isHandleCommandError,
  MemoryEventLog,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { PgliteEventLog } from "../adapters/pglite/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
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

/** Reasons that promise nothing of the command was written. */
const NOT_WRITTEN: ReadonlySet<HandleCommandFailure> = new Set<HandleCommandFailure>([
  "aborted",
  "stopped",
  "mailbox-full",
  "command-handler-threw",
  "encode-failed",
  "persist-failed",
  "resync-failed",
]);

const ENTITIES = 8;
/** Commands each entity gets. */
const COMMANDS = 60;
/** Senders per entity, each sending its share of the commands one after the other. */
const SENDERS = 3;
/** Acknowledged commands before the connection is dropped. */
const BEFORE_FAULT = 60;
/** No command may take longer than this: a longer one is a hang. */
const COMMAND_BOUND = 20_000;

let pg: PostgresServer;
let nats: NatsTestServer;

before(async () => {
  pg = await startPostgres();
  const log = await PostgresEventLog.connect({ url: pg.url, max: 1 });
  try {
    await log.setup();
  } finally {
    await log.close();
  }
  nats = await startNatsServer();
  const natsLog = await NatsEventLog.connect({ servers: nats.wsUrl });
  try {
    await natsLog.setup();
  } finally {
    await natsLog.close();
  }
}, { timeout: 60_000 });

after(async () => {
  await pg?.stop();
  await nats?.dispose();
}, { timeout: 60_000 });

interface Outcomes {
  ledger: Ledger;
  /** Tags whose command failed with a reason that promises nothing was written. */
  notWritten: Set<string>;
  /** Failures by reason. */
  reasons: Map<string, number>;
  /** Commands in flight when the fault struck. */
  inFlightAtFault: number;
}

/**
 * Sends COMMANDS tagged commands per entity from SENDERS senders, each command with a signal of
 * its own that aborts for two thirds of them; once BEFORE_FAULT commands are acknowledged,
 * `fault` runs while commands are in flight.
 */
async function runWithFault(
  refs: readonly EntityRef<number, TaggedEvent>[],
  scenario: string,
  fault: (() => Promise<void>) | undefined,
): Promise<Outcomes> {
  const outcomes: Outcomes = {
    ledger: new Ledger(),
    notWritten: new Set(),
    reasons: new Map(),
    inFlightAtFault: 0,
  };
  const escaped: unknown[] = [];
  const onUnhandled = (reason: unknown) => void escaped.push(reason);
  process.on("unhandledRejection", onUnhandled);
  let inFlight = 0;
  // SENDERS senders per entity, so commands also wait in the mailbox; a third of the signals
  // abort after a random 0-3 ms, a sixth right after sending (while the command waits or runs),
  // and a sixth before sending.
  const sender = async (index: number, lane: number) => {
    const ref = refs[index]!;
    for (let n = lane; n < COMMANDS; n += SENDERS) {
      const tag = `${scenario}.${index}.${n}`;
      outcomes.ledger.send(ref.id, tag);
      const controller = new AbortController();
      const abort = () => controller.abort(new Error("caller gave up"));
      const dice = Math.random();
      const timer = dice < 1 / 3 ? setTimeout(abort, Math.random() * 3) : undefined;
      if (dice > 5 / 6) abort();
      inFlight++;
      const handled = ref.handleCommand(add(tag, amountOf(tag)), { signal: controller.signal });
      if (dice > 2 / 3 && dice <= 5 / 6) queueMicrotask(abort);
      try {
        const result = await within(handled, COMMAND_BOUND, `command ${tag}`);
        assert.ok(result.ok);
        outcomes.ledger.ack(tag, result.value);
      } catch (error) {
        assert.ok(isHandleCommandError(error), `command ${tag} failed with ${error}`);
        outcomes.ledger.fail(tag, error);
        outcomes.reasons.set(error.reason, (outcomes.reasons.get(error.reason) ?? 0) + 1);
        if (NOT_WRITTEN.has(error.reason)) outcomes.notWritten.add(tag);
        else {
          assert.equal(error.reason, "persist-outcome-unknown", `${tag}: ${error.message}`);
        }
      } finally {
        inFlight--;
        clearTimeout(timer);
      }
    }
  };
  const worker = (index: number) =>
    Promise.all(Array.from({ length: SENDERS }, (_, lane) => sender(index, lane)));
  const workers = Promise.all(refs.map((_, i) => worker(i)));
  try {
    if (fault !== undefined) {
      await waitUntil("the warm-up", () => outcomes.ledger.acked.size >= BEFORE_FAULT);
      outcomes.inFlightAtFault = inFlight;
      await fault();
    }
    await workers;
  } finally {
    await workers.catch(() => {});
    await sleep(100);
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(escaped, [], "no failure escapes as an unhandled rejection");
  return outcomes;
}

/** Reads the log back with a fresh instance and checks every outcome the callers were told. */
async function verifyOutcomes(
  eventLog: EventLog,
  typeName: string,
  ids: readonly string[],
  scenario: string,
  outcomes: Outcomes,
): Promise<void> {
  const verdict = await verifyLog(eventLog, typeName, ids, outcomes.ledger);
  const inLog = new Set<string>();
  for (const id of ids) {
    for (const persisted of await collect(eventLog.eventsById(typeName, id, 1))) {
      inLog.add(taggedBinarize.eventFromBytes(persisted.bytes).tag);
    }
  }
  const toldFailedButWritten = [...outcomes.notWritten].filter((tag) => inLog.has(tag));
  const reasons = [...outcomes.reasons].map(([reason, n]) => `${reason} ${n}`).join(", ");
  report(
    scenario,
    verdict,
    `failures: ${reasons || "none"}; in flight at the fault: ${outcomes.inFlightAtFault}`,
  );
  assert.deepEqual(
    toldFailedButWritten,
    [],
    `${scenario}: commands reported as failed (not written) are in the log`,
  );
  assert.ok(outcomes.reasons.get("aborted")! > 0, `${scenario}: some commands were aborted`);
}

async function spawnAll(
  eventLog: EventLog,
  typeName: string,
  ids: readonly string[],
): Promise<EntityRef<number, TaggedEvent>[]> {
  return await Promise.all(
    ids.map((id) => spawn(taggedCounter(typeName), id, { eventLog, binarize: taggedBinarize })),
  );
}

const idsOf = (scenario: string) => Array.from({ length: ENTITIES }, (_, i) => `${scenario}-${i}`);

test("memory: aborted commands are never in the log, acknowledged ones always", async () => {
  const typeName = uniqueTypeName("outcome");
  const eventLog = new MemoryEventLog();
  const ids = idsOf("memory");
  const refs = await spawnAll(eventLog, typeName, ids);
  const outcomes = await runWithFault(refs, "memory", undefined);
  await Promise.all(refs.map((ref) => ref.stop()));
  await verifyOutcomes(eventLog, typeName, ids, "memory", outcomes);
});

test("PostgreSQL: backends terminated with commits in flight; no failed command is in the log", async () => {
  const typeName = uniqueTypeName("outcome");
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  const eventLog = await PostgresEventLog.connect({ url: pg.url, max: 4 });
  const ids = idsOf("postgres");
  try {
    const refs = await spawnAll(eventLog, typeName, ids);
    const outcomes = await runWithFault(refs, "postgres", async () => {
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
        where pid <> pg_backend_pid() and datname = current_database()
          and backend_type = 'client backend'`;
    });
    await Promise.all(refs.map((ref) => ref.stop()));
    const fresh = await PostgresEventLog.connect({ url: pg.url, max: 2 });
    try {
      await verifyOutcomes(fresh, typeName, ids, "postgres", outcomes);
    } finally {
      await fresh.close();
    }
  } finally {
    await eventLog.close();
    await admin.end({ timeout: 5 });
  }
});

test("PGlite: the database closed with persists in flight; no failed command is in the log", async () => {
  const typeName = uniqueTypeName("outcome");
  const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-outcome-"));
  const db = await PGlite.create(dataDir);
  const eventLog = new PgliteEventLog(db);
  await eventLog.setup();
  const ids = idsOf("pglite");
  const refs = await spawnAll(eventLog, typeName, ids);
  const outcomes = await runWithFault(refs, "pglite", () => db.close());
  await Promise.all(refs.map((ref) => ref.stop()));
  const reopened = await PgliteEventLog.open({ dataDir });
  try {
    await verifyOutcomes(reopened, typeName, ids, "pglite", outcomes);
  } finally {
    await reopened.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("NATS: the connection closed with publishes in flight; no failed command is in the log", async () => {
  const typeName = uniqueTypeName("outcome");
  const nc = await wsconnect({ servers: nats.wsUrl });
  const eventLog = new NatsEventLog(nc);
  const ids = idsOf("nats");
  try {
    const refs = await spawnAll(eventLog, typeName, ids);
    const outcomes = await runWithFault(refs, "nats", () => nc.close());
    await Promise.all(refs.map((ref) => ref.stop()));
    const fresh = await NatsEventLog.connect({ servers: nats.wsUrl });
    try {
      await verifyOutcomes(fresh, typeName, ids, "nats", outcomes);
    } finally {
      await fresh.close();
    }
  } finally {
    await eventLog.close().catch(() => {});
    await nc.close().catch(() => {});
  }
});
