// Fault test: split brain. Two processes spawn the same entities and both send commands at
// once, against PostgreSQL and against NATS. Every seqNo ends up with exactly one event, every
// acknowledged command is in the log and nothing else is; every failure the processes saw is
// a HandleCommandError caused by a ConcurrencyError; and after each conflict the losing entity
// re-syncs from the log and goes on (its later replies match the log's state).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { EventLog } from "../mod.ts";
import { uniqueTypeName, within } from "../testing/mod.ts";
import { PostgresEventLog } from "../adapters/postgres/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import type { PostgresServer } from "./_servers/postgres.ts";
import type { NatsTestServer } from "./_servers/nats.ts";
import { startFaultServers } from "./_faults/servers.ts";
import { type Child, startChild } from "./_faults/child.ts";
import { absorbWriter, Ledger, report, verifyLog, waitUntil } from "./_faults/load.ts";
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

const ENTITIES = 4;
const ACKS_PER_ENTITY = 100;

async function splitBrain(
  name: string,
  backend: WriterConfig["backend"],
  url: string,
  open: () => Promise<EventLog & { close(): Promise<void> }>,
): Promise<void> {
  const typeName = uniqueTypeName("split");
  const ids = Array.from({ length: ENTITIES }, (_, i) => `split-${i}`);
  const writers: Child[] = ["a", "b"].map((prefix) =>
    startChild(
      "writer",
      {
        backend,
        url,
        typeName,
        ids,
        prefix,
        acksPerEntity: ACKS_PER_ENTITY,
        maxCommands: ACKS_PER_ENTITY * 40,
        waitForGo: true,
      } satisfies WriterConfig,
    )
  );
  try {
    // Both have spawned every entity (each from the same empty log) before either writes.
    await waitUntil(
      "both writers ready",
      () => writers.every((w) => w.lines.some((line) => line[0] === "ready")),
      60_000,
    ).catch((error) => {
      throw new Error(`${error.message}\n${writers.map((w) => w.stderr()).join("\n")}`);
    });
    for (const writer of writers) writer.tell("go");
    await within(Promise.all(writers.map((w) => w.exited)), 90_000, "both writers finished");
  } finally {
    for (const writer of writers) await writer.kill();
  }
  const ledger = new Ledger();
  const records = writers.map((writer) => absorbWriter(writer.lines, ledger));
  for (const [i, writer] of writers.entries()) {
    const { code } = await writer.exited;
    assert.equal(code, 0, `writer ${i} exits normally:\n${writer.stderr()}`);
    assert.ok(records[i]!.finished, `writer ${i} finished`);
    assert.deepEqual(records[i]!.otherFailures, [], "every failure is caused by a conflict");
    // Every entity of both processes reached its acknowledged commands: re-synced and went on.
    assert.deepEqual([...records[i]!.done].sort(), [...ids].sort());
  }
  for (const id of ids) assert.equal(ledger.ackedOf(id), 2 * ACKS_PER_ENTITY);
  const conflicts = records.map((r) => r.conflicts);
  assert.ok(conflicts[0]! + conflicts[1]! > 0, "the two processes raced for the same seqNos");
  // After a conflict on an entity the losing process got further replies for it.
  for (const r of records) {
    assert.deepEqual([...r.recoveredAfterConflict].sort(), [...r.conflicted].sort());
  }

  const eventLog = await open();
  try {
    const verdict = await verifyLog(eventLog, typeName, ids, ledger);
    report(name, verdict, `conflicts: ${conflicts.join(" and ")}`);
    // No faults here but conflicts: a conflict writes nothing, so the log is exactly the
    // acknowledged commands.
    assert.equal(verdict.writtenWithoutAck, 0, "a refused command left nothing in the log");
    assert.equal(verdict.found, verdict.acknowledged);
  } finally {
    await eventLog.close();
  }
}

test(
  "split brain on PostgreSQL: two processes writing the same entities fork no history, the losers get ConcurrencyError and go on",
  { timeout: 150_000 },
  () =>
    splitBrain(
      "split-brain-postgres",
      "postgres",
      pg.url,
      () => PostgresEventLog.connect({ url: pg.url, max: 2 }),
    ),
);

test(
  "split brain on NATS: two processes writing the same entities fork no history, the losers get ConcurrencyError and go on",
  { timeout: 150_000 },
  () =>
    splitBrain(
      "split-brain-nats",
      "nats",
      nats.wsUrl,
      () => NatsEventLog.connect({ servers: nats.wsUrl }),
    ),
);
