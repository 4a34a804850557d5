// Fault test: a writer process is killed with SIGKILL at a random moment in a load run, twice
// in a row, against PostgreSQL and against NATS. Afterwards every command whose reply reached
// the parent is in the log, seqNos are dense (none missing, none doubled), every reply is the
// state the log has at that event, events written without an ack are accounted for (sent,
// and at most one in flight per entity per crash), and the entities spawn again with the
// state the log gives and go on.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type EventLog, spawn } from "../mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import type { PostgresServer } from "./_servers/postgres.ts";
import type { NatsTestServer } from "./_servers/nats.ts";
import { startFaultServers } from "./_faults/servers.ts";
import { startChild } from "./_faults/child.ts";
import {
  absorbWriter,
  add,
  amountOf,
  getState,
  Ledger,
  report,
  sleep,
  taggedBinarize,
  taggedCounter,
  verifyLog,
  waitUntil,
} from "./_faults/load.ts";
import type { WriterConfig } from "./_faults/writer.ts";

let pg: PostgresServer;
let nats: NatsTestServer;

before(async () => {
  ({ pg, nats } = await startFaultServers());
}, { timeout: 60_000 });

after(async () => {
  await pg?.stop();
  await nats?.dispose();
}, { timeout: 60_000 });

const ENTITIES = 6;
const ROUNDS = 2;

async function crashScenario(
  name: string,
  backend: WriterConfig["backend"],
  url: string,
  open: () => Promise<EventLog & { close(): Promise<void> }>,
): Promise<void> {
  const typeName = uniqueTypeName("crash");
  const ids = Array.from({ length: ENTITIES }, (_, i) => `crash-${i}`);
  const ledger = new Ledger();
  let inFlightAtKills = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const config: WriterConfig = {
      backend,
      url,
      typeName,
      ids,
      prefix: `r${round}`,
      maxCommands: 20_000,
    };
    const child = startChild("writer", config);
    try {
      // A random moment: after a random number of replies, plus a random pause.
      const threshold = 30 + Math.floor(Math.random() * 250);
      const acks = () => child.lines.filter((line) => line[0] === "ack").length;
      await Promise.race([
        waitUntil(
          `${threshold} acknowledged commands of the writer`,
          () => acks() >= threshold,
          60_000,
        ),
        child.exited.then(({ code, signal }) => {
          throw new Error(`the writer ended early (${code ?? signal}):\n${child.stderr()}`);
        }),
      ]);
      await sleep(Math.random() * 30);
    } finally {
      await child.kill();
    }
    const { signal } = await child.exited;
    assert.equal(signal, "SIGKILL", `the writer died of SIGKILL:\n${child.stderr()}`);
    const before = ledger.sent.size - ledger.acked.size - ledger.failed.size;
    const records = absorbWriter(child.lines, ledger);
    assert.ok(records.ready);
    assert.deepEqual(records.otherFailures, [], "no command failed before the kill");
    inFlightAtKills += ledger.sent.size - ledger.acked.size - ledger.failed.size - before;
  }
  // At most one command per entity waits for its reply when the writer dies.
  assert.ok(inFlightAtKills <= ENTITIES * ROUNDS, `${inFlightAtKills} commands in flight`);

  const eventLog = await open();
  try {
    const verdict = await verifyLog(eventLog, typeName, ids, ledger);
    report(name, verdict, `${ROUNDS} kills, ${inFlightAtKills} commands in flight at the kills`);
    // Each event written without an ack is one of the commands in flight at a kill.
    assert.ok(verdict.writtenWithoutAck <= inFlightAtKills);
    // Replay gives the state the log holds, and the entities go on after it.
    const entity = taggedCounter(typeName);
    for (const id of ids) {
      const ref = await spawn(entity, id, { eventLog, binarize: taggedBinarize });
      const state = await ref.handleCommand(getState);
      assert.deepEqual(state, { ok: true, value: verdict.states.get(id) });
      const acked = [...ledger.acked].filter(([tag]) => ledger.sent.get(tag) === id);
      const highest = Math.max(0, ...acked.map(([, value]) => value));
      assert.ok(verdict.states.get(id)! >= highest, `${id}: state covers every acknowledged reply`);
      const tag = `after.${id}`;
      const next = await ref.handleCommand(add(tag, amountOf(tag)));
      assert.deepEqual(next, { ok: true, value: verdict.states.get(id)! + amountOf(tag) });
      assert.equal(await eventLog.lastSeqNo(typeName, id), verdict.heads.get(id)! + 1);
      await ref.stop();
    }
  } finally {
    await eventLog.close();
  }
}

test(
  "writer crash on PostgreSQL: after SIGKILL every acknowledged command is in the log, once, and the entities go on",
  { timeout: 120_000 },
  () =>
    crashScenario(
      "writer-crash-postgres",
      "postgres",
      pg.url,
      () => PostgresEventLog.connect({ url: pg.url, max: 2 }),
    ),
);

test(
  "writer crash on NATS: after SIGKILL every acknowledged command is in the log, once, and the entities go on",
  { timeout: 120_000 },
  () =>
    crashScenario(
      "writer-crash-nats",
      "nats",
      nats.wsUrl,
      () => NatsEventLog.connect({ servers: nats.wsUrl }),
    ),
);
