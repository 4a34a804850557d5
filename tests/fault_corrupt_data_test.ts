// Fault test: stored bytes that cannot be decoded, on PostgreSQL and PGlite (a row changed by
// SQL) and on NATS (a message published straight onto an entity's subject). Spawning the
// damaged entity is a SpawnError naming typeName, id and seqNo; every other entity spawns and
// takes commands; the byte-level reads still return everything; EventReader reads up to the
// bad event and then fails with a DecodeError naming it, and reads past it work again.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { headers, wsconnect } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import {
  type EventEnvelope,
  type EventLog,
  EventReader,
  isDecodeError,
  isSpawnError,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { PostgresEventLog, PostgresSnapshotStore } from "../adapters/postgres/mod.ts";
import { PgliteEventLog, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { encodeToken, NatsEventLog, NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  add,
  amountOf,
  getState,
  taggedBinarize,
  taggedCounter,
  type TaggedEvent,
} from "./_faults/load.ts";

let pg: PostgresServer;
let sql: postgres.Sql;
let nats: NatsTestServer;
let pglite: PGlite;

before(async () => {
  pglite = await PGlite.create();
  pg = await startPostgres({ fsync: false });
  sql = postgres(pg.url, { max: 4, onnotice: () => {} });
  await new PostgresEventLog(sql).setup();
  await new PostgresSnapshotStore(sql).setup();
  nats = await startNatsServer();
}, { timeout: 60_000 });

after(async () => {
  await pglite?.close();
  await sql?.end({ timeout: 5 });
  await pg?.stop();
  await nats?.dispose();
}, { timeout: 60_000 });

/** Bytes no JSON decoder takes: invalid UTF-8 and no JSON value. */
const GARBAGE = new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x22]);
const encode = (tag: string) => taggedBinarize.eventToBytes({ tag, by: amountOf(tag) });

/** How a backend damages one stored event. */
interface Backend {
  eventLog: EventLog;
  snapshotStore: SnapshotStore;
  /** Writes event `seqNo` of `id` (after seqNo - 1), damaged: bytes that do not decode. */
  writeCorrupt(typeName: string, id: string, seqNo: number): Promise<void>;
}

// Writes: a/1 a/2, bad/1 … bad/5 (bad/3 damaged), b/1 b/2: positions in that order.
async function writeHistory(backend: Backend, typeName: string): Promise<void> {
  const { eventLog } = backend;
  await eventLog.persist(typeName, "a", null, [encode("a1")]);
  await eventLog.persist(typeName, "a", 1, [encode("a2")]);
  await eventLog.persist(typeName, "bad", null, [encode("bad1")]);
  await eventLog.persist(typeName, "bad", 1, [encode("bad2")]);
  await backend.writeCorrupt(typeName, "bad", 3);
  await eventLog.persist(typeName, "bad", 3, [encode("bad4"), encode("bad5")]);
  await eventLog.persist(typeName, "b", null, [encode("b1")]);
  await eventLog.persist(typeName, "b", 1, [encode("b2")]);
}

/** Reads a stream until it ends or errors; returns what came and the error. */
async function readUntilError<T>(
  stream: ReadableStream<T>,
): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return { items, error: undefined };
      items.push(next.value);
    }
  } catch (error) {
    return { items, error };
  } finally {
    reader.releaseLock();
  }
}

function assertNamesBadEvent(error: unknown, typeName: string, what: string): void {
  assert.ok(isDecodeError(error), `${what}: a DecodeError, not ${error}`);
  assert.equal(error.typeName, typeName);
  assert.equal(error.id, "bad");
  assert.equal(error.seqNo, 3);
  assert.equal(error.what, "event");
  assert.match(error.message, new RegExp(`"${typeName}/bad".*seqNo 3`));
}

async function corruptScenario(name: string, backend: Backend): Promise<void> {
  const typeName = uniqueTypeName("corrupt");
  const entity = taggedCounter(typeName);
  const { eventLog } = backend;
  await writeHistory(backend, typeName);

  // The damaged entity does not spawn, and says where the damage is.
  const error = await spawn(entity, "bad", { eventLog, binarize: taggedBinarize }).then(
    () => assert.fail("spawning the damaged entity succeeded"),
    (e: unknown) => e,
  );
  assert.ok(isSpawnError(error), `a SpawnError, not ${error}`);
  assert.match(error.message, new RegExp(`${typeName}/bad`));
  assert.match(error.message, /seqNo 3/);
  assertNamesBadEvent(error.cause, typeName, "the spawn error's cause");

  // The other entities spawn, recover their state and take commands.
  for (const [id, tags] of [["a", ["a1", "a2"]], ["b", ["b1", "b2"]]] as const) {
    const ref = await spawn(entity, id, { eventLog, binarize: taggedBinarize });
    const expected = tags.reduce((sum, tag) => sum + amountOf(tag), 0);
    assert.deepEqual(await ref.handleCommand(getState), { ok: true, value: expected });
    const tag = `${id}3`;
    assert.deepEqual(await ref.handleCommand(add(tag, amountOf(tag))), {
      ok: true,
      value: expected + amountOf(tag),
    });
    await ref.stop();
  }

  // Bytes: the whole log reads back, damaged event included.
  const raw = await collect(eventLog.eventsByType(typeName, 0));
  const expected = [
    "a/1",
    "a/2",
    "bad/1",
    "bad/2",
    "bad/3",
    "bad/4",
    "bad/5",
    "b/1",
    "b/2",
    "a/3",
    "b/3",
  ];
  const found = raw.map((e) => `${e.id}/${e.seqNo}`);
  const lost = expected.filter((key) => !found.includes(key)).length;
  const duplicated = found.length - new Set(found).size;
  // Sent and acknowledged: the 9 events of the history and the 2 commands after the damage.
  console.log(
    `scenario ${name}: sent 11, acknowledged 11, found ${found.length}, lost ${lost}, duplicated ${duplicated}`,
  );
  assert.equal(lost, 0);
  assert.equal(duplicated, 0);
  assert.deepEqual(found, expected);
  assert.equal(await eventLog.lastSeqNo(typeName, "bad"), 5);

  // Decoded: up to the bad event, then a DecodeError naming it.
  const reader = new EventReader<TaggedEvent>(typeName, { eventLog, binarize: taggedBinarize });
  const byType = await readUntilError(reader.eventsByType());
  assert.deepEqual(
    byType.items.map((e: EventEnvelope<TaggedEvent>) => e.event.tag),
    ["a1", "a2", "bad1", "bad2"],
  );
  assertNamesBadEvent(byType.error, typeName, "eventsByType");
  const byId = await readUntilError(reader.eventsById("bad"));
  assert.deepEqual(byId.items.map((e) => e.event.tag), ["bad1", "bad2"]);
  assertNamesBadEvent(byId.error, typeName, "eventsById");

  // Past the bad event everything decodes again.
  const badPosition = raw[4]!.position;
  const rest = await collect(reader.eventsByType(badPosition + 1));
  assert.deepEqual(rest.map((e) => e.event.tag), ["bad4", "bad5", "b1", "b2", "a3", "b3"]);
  assert.deepEqual((await collect(reader.eventsById("bad", 4))).map((e) => e.event.tag), [
    "bad4",
    "bad5",
  ]);
}

// A snapshot that does not decode is passed over: the entity replays from its first event and
// onError hears a DecodeError naming the snapshot and its seqNo.
async function corruptSnapshotScenario(backend: Backend): Promise<void> {
  const typeName = uniqueTypeName("corruptsnap");
  const entity = taggedCounter(typeName);
  const { eventLog, snapshotStore } = backend;
  await eventLog.persist(typeName, "s", null, [encode("s1"), encode("s2")]);
  await snapshotStore.save(typeName, "s", 2, GARBAGE);
  const errors: Error[] = [];
  const ref = await spawn(entity, "s", {
    eventLog,
    snapshotStore,
    binarize: taggedBinarize,
    onError: (error) => errors.push(error),
  });
  assert.deepEqual(await ref.handleCommand(getState), {
    ok: true,
    value: amountOf("s1") + amountOf("s2"),
  });
  await ref.stop();
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, new RegExp(`Passed over the snapshot of "${typeName}/s"`));
  const cause = errors[0]!.cause;
  assert.ok(isDecodeError(cause));
  assert.equal(cause.what, "snapshot");
  assert.equal(cause.seqNo, 2);
}

function sqlBackend(
  eventLog: EventLog,
  snapshotStore: SnapshotStore,
  run: (text: string, params: unknown[]) => Promise<unknown>,
): Backend {
  return {
    eventLog,
    snapshotStore,
    async writeCorrupt(typeName, id, seqNo) {
      // Written as a good event, then damaged in place by SQL.
      await eventLog.persist(typeName, id, seqNo - 1, [encode(`${id}${seqNo}`)]);
      const changed = await run(
        `update eventsourced_events set bytes = $3 where type_name = $1 and id = $2 and seq_no = $4`,
        [typeName, id, GARBAGE, seqNo],
      );
      assert.equal(changed, 1, "one row damaged");
    },
  };
}

const postgresBackend = () =>
  sqlBackend(new PostgresEventLog(sql), new PostgresSnapshotStore(sql), async (text, params) => {
    const result = await sql.unsafe(text, params as never[]);
    return result.count;
  });

test("corrupt data on PostgreSQL: the damaged entity's SpawnError names typeName, id and seqNo; the rest of the log stays readable", async () => {
  await corruptScenario("corrupt-row-postgres", postgresBackend());
});

test("corrupt snapshot on PostgreSQL: passed over, replayed from the first event, onError told its seqNo", async () => {
  await corruptSnapshotScenario(postgresBackend());
});

async function withPglite(scenario: (backend: Backend) => Promise<void>): Promise<void> {
  const db = pglite;
  {
    const eventLog = new PgliteEventLog(db);
    const snapshotStore = new PgliteSnapshotStore(db);
    await eventLog.setup();
    await snapshotStore.setup();
    await scenario(
      sqlBackend(eventLog, snapshotStore, async (text, params) => {
        const result = await db.query(text, params);
        return result.affectedRows;
      }),
    );
  }
}

test("corrupt data on PGlite: the damaged entity's SpawnError names typeName, id and seqNo; the rest of the log stays readable", async () => {
  await withPglite((backend) => corruptScenario("corrupt-row-pglite", backend));
});

test("corrupt snapshot on PGlite: passed over, replayed from the first event, onError told its seqNo", async () => {
  await withPglite(corruptSnapshotScenario);
});

async function withNats(
  scenario: (backend: Backend, publish: RawPublish) => Promise<void>,
): Promise<void> {
  const nc = await wsconnect({ servers: nats.wsUrl });
  try {
    const eventLog = new NatsEventLog(nc);
    const snapshotStore = new NatsSnapshotStore(nc);
    await eventLog.setup();
    await snapshotStore.setup();
    const js = jetstream(nc);
    const publish: RawPublish = async (typeName, id, body, set) => {
      const h = headers();
      for (const [name, value] of Object.entries(set)) h.set(name, value);
      await js.publish(`eventsourced.${typeName}.${encodeToken(id)}`, body, { headers: h });
    };
    const backend: Backend = {
      eventLog,
      snapshotStore,
      async writeCorrupt(typeName, id, seqNo) {
        // A message as the log writes it (seqNo header, one event), but its body does not decode.
        await publish(typeName, id, GARBAGE, { "Eventsourced-Seq-No": `${seqNo}` });
      },
    };
    await scenario(backend, publish);
  } finally {
    await nc.close();
  }
}

type RawPublish = (
  typeName: string,
  id: string,
  body: Uint8Array,
  headers: Record<string, string>,
) => Promise<void>;

test("corrupt data on NATS: the damaged entity's SpawnError names typeName, id and seqNo; the rest of the log stays readable", async () => {
  await withNats((backend) => corruptScenario("corrupt-message-nats", backend));
});

test("corrupt snapshot on NATS: passed over, replayed from the first event, onError told its seqNo", async () => {
  await withNats((backend) => corruptSnapshotScenario(backend));
});

test("a NATS message whose batch body is cut short gives a SpawnError naming typeName, id and seqNo; other entities stay readable", async () => {
  await withNats(async ({ eventLog }, publish) => {
    const typeName = uniqueTypeName("corruptbatch");
    const entity = taggedCounter(typeName);
    await eventLog.persist(typeName, "ok", null, [encode("ok1")]);
    await eventLog.persist(typeName, "cut", null, [encode("cut1"), encode("cut2")]);
    // Three events announced (seqNos 3 to 5), a body that is no valid batch.
    await publish(typeName, "cut", GARBAGE, {
      "Eventsourced-Seq-No": "3",
      "Eventsourced-Count": "3",
    });
    const error = await spawn(entity, "cut", { eventLog, binarize: taggedBinarize }).then(
      () => assert.fail("spawning the damaged entity succeeded"),
      (e: unknown) => e,
    );
    assert.ok(isSpawnError(error), `a SpawnError, not ${error}`);
    assert.match(error.message, new RegExp(`${typeName}/cut`));
    assert.match(error.message, /seqNo 3\b|seqNos 3\b/, `names the seqNo: ${error.message}`);
    const ref = await spawn(entity, "ok", { eventLog, binarize: taggedBinarize });
    assert.deepEqual(await ref.handleCommand(getState), { ok: true, value: amountOf("ok1") });
    await ref.stop();
  });
});

test("a foreign NATS message without eventsourced headers on an entity's subject gives a SpawnError naming typeName and id; other entities stay readable", async () => {
  await withNats(async ({ eventLog }, publish) => {
    const typeName = uniqueTypeName("foreign");
    const entity = taggedCounter(typeName);
    await eventLog.persist(typeName, "ok", null, [encode("ok1")]);
    await eventLog.persist(typeName, "mixed", null, [encode("m1")]);
    await publish(typeName, "mixed", encode("m2"), {});
    const error = await spawn(entity, "mixed", { eventLog, binarize: taggedBinarize }).then(
      () => assert.fail("spawning the damaged entity succeeded"),
      (e: unknown) => e,
    );
    assert.ok(isSpawnError(error), `a SpawnError, not ${error}`);
    assert.match(error.message, new RegExp(`${typeName}/mixed`));
    const ref = await spawn(entity, "ok", { eventLog, binarize: taggedBinarize });
    assert.deepEqual(await ref.handleCommand(getState), { ok: true, value: amountOf("ok1") });
    await ref.stop();
  });
});
