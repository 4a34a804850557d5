// verifyLog on the memory store and PGlite: a sound log passes, deletions covered by a snapshot
// included; a gap in seqNos, deleted events no snapshot covers, a position gap (when asked), an
// event the codec cannot decode and a snapshot ahead of its entity are each found and named.

import { test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { PgliteStoreAdmin } from "../adapters/pglite/mod.ts";
import assert from "node:assert/strict";
import {
  deleteEntity,
  deleteEventsUpTo,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  type PersistedEvent,
} from "../mod.ts";
import { memoryStoreAdmin, type StoreAdmin, verifyLog } from "../admin/mod.ts";
import { uniqueTypeName } from "../testing/mod.ts";
import { fillStore } from "./copy_fixtures.ts";

function openMemory(): StoreAdmin {
  return memoryStoreAdmin({
    eventLog: new MemoryEventLog(),
    snapshotStore: new MemorySnapshotStore(),
  });
}

const event = (typeName: string, id: string, seqNo: number, position: number): PersistedEvent => ({
  typeName,
  id,
  seqNo,
  position,
  bytes: new TextEncoder().encode(`{"n":${seqNo}}`),
  version: 1,
  writtenAt: 1_000 + position,
  metadata: {},
});

test("verifyLog passes a sound log and counts what it read", async () => {
  const admin = openMemory();
  const types = [uniqueTypeName(), uniqueTypeName()];
  const total = await fillStore(admin, types);
  const progress: number[] = [];
  const report = await verifyLog(admin, {
    codec: jsonBinarize(),
    onProgress: (p) => progress.push(p.events),
  });
  assert.deepEqual(
    { ...report, elapsedMs: 0 },
    {
      ok: true,
      types: 2,
      entities: 10,
      events: total,
      snapshots: 6,
      problems: [],
      truncated: false,
      elapsedMs: 0,
    },
  );
  assert.equal(progress.at(-1), total);
});

test("verifyLog finds an event the codec cannot decode, with a Binarize or a decode function", async () => {
  const admin = openMemory();
  const typeName = uniqueTypeName();
  await admin.eventLog.persist(typeName, "a", null, [new TextEncoder().encode("{}")]);
  await admin.eventLog.persist(typeName, "b", null, [new Uint8Array([0xff, 0x00])], { version: 3 });
  for (
    const codec of [
      jsonBinarize(),
      {
        decode: (bytes: Uint8Array) =>
          JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)),
      },
    ]
  ) {
    const report = await verifyLog(admin, { codec });
    assert.equal(report.ok, false);
    assert.equal(report.problems.length, 1);
    const [problem] = report.problems;
    assert.deepEqual(
      { ...problem, message: "" },
      { kind: "undecodable", typeName, id: "b", seqNo: 1, position: 2, message: "" },
    );
    assert.match(
      problem!.message,
      new RegExp(`^Entity "${typeName}" "b": seqNo 1 \\(version 3\\) cannot be decoded: `),
    );
  }
  // Without a codec the bytes are not looked at.
  assert.equal((await verifyLog(admin)).ok, true);
});

test("verifyLog finds a snapshot ahead of its entity's last event", async () => {
  const admin = openMemory();
  const typeName = uniqueTypeName();
  await admin.eventLog.persist(typeName, "a", null, [new Uint8Array([1]), new Uint8Array([2])]);
  await admin.snapshotStore.save(typeName, "a", 2, new Uint8Array([0]));
  assert.equal((await verifyLog(admin)).ok, true);
  await admin.snapshotStore.save(typeName, "a", 5, new Uint8Array([0]));
  await admin.snapshotStore.save(typeName, "ghost", 1, new Uint8Array([0]));
  const report = await verifyLog(admin);
  assert.deepEqual(report.problems.map((p) => [p.kind, p.id, p.seqNo, p.message]), [
    [
      "snapshot-ahead",
      "a",
      5,
      `Entity "${typeName}" "a": snapshot at seqNo 5 is ahead of its last event, seqNo 2`,
    ],
    [
      "snapshot-ahead",
      "ghost",
      1,
      `Entity "${typeName}" "ghost": snapshot at seqNo 1 is ahead of its last event, seqNo 0`,
    ],
  ]);
});

test("verifyLog finds positions that skip when told they must be dense, and passes them by default", async () => {
  // No store writes a gap, so one is made by deleting an entity's only event from PGlite.
  const db = await PGlite.create();
  try {
    const admin = new PgliteStoreAdmin(db, { tablePrefix: "skip_" });
    await admin.setup();
    const typeName = uniqueTypeName();
    await admin.importEvents([
      event(typeName, "a", 1, 1),
      event(typeName, "b", 1, 2),
      event(typeName, "a", 2, 3),
    ]);
    await db.query(`delete from "public"."skip_events" where type_name = $1 and id = 'b'`, [
      typeName,
    ]);
    const report = await verifyLog(admin, { densePositions: true });
    assert.deepEqual(report.problems.map((p) => [p.kind, p.id, p.seqNo, p.position, p.message]), [
      [
        "position-gap",
        "a",
        2,
        3,
        `Entity "${typeName}" "a": position 3 after position 1 of "${typeName}", skipping 1`,
      ],
    ]);
    assert.equal((await verifyLog(admin)).ok, true);
    await admin.close();
  } finally {
    await db.close();
  }
});

test("verifyLog finds a gap in an entity's seqNos and positions out of order", async () => {
  // The memory log refuses to hold a gap, so the read is altered: one event left out, two swapped.
  const admin = openMemory();
  const typeName = uniqueTypeName();
  await admin.importEvents(
    [1, 2, 3, 4].map((n) => event(typeName, n === 3 ? "b" : "a", n === 4 ? 3 : n === 3 ? 1 : n, n)),
  );
  const altered = (drop: (e: PersistedEvent, i: number) => boolean, swap: boolean): StoreAdmin => {
    const eventLog = new Proxy(admin.eventLog, {
      get(log, key) {
        if (key !== "eventsByType") return Reflect.get(log, key).bind(log);
        return (...args: Parameters<typeof log.eventsByType>) => {
          const events: PersistedEvent[] = [];
          return new ReadableStream<PersistedEvent>({
            async start(controller) {
              for await (const e of log.eventsByType(...args)) events.push(e);
              const kept = events.filter((e, i) => !drop(e, i));
              if (swap) kept.reverse();
              for (const e of kept) controller.enqueue(e);
              controller.close();
            },
          });
        };
      },
    });
    return new Proxy(admin, {
      get(a, key) {
        if (key === "eventLog") return eventLog;
        const value = Reflect.get(a, key);
        return typeof value === "function" ? value.bind(a) : value;
      },
    });
  };
  const gap = await verifyLog(altered((e) => e.id === "a" && e.seqNo === 2, false), {
    densePositions: false,
  });
  assert.deepEqual(gap.problems.map((p) => [p.kind, p.id, p.seqNo, p.message]), [
    ["seqno-gap", "a", 3, `Entity "${typeName}" "a": seqNo 3 after seqNo 1`],
  ]);
  const swapped = await verifyLog(altered(() => false, true), {
    densePositions: false,
    maxProblems: 2,
  });
  assert.equal(swapped.ok, false);
  assert.equal(swapped.truncated, true);
  // A first event above seqNo 1 is reported once the snapshots are read, after b's position.
  assert.deepEqual(swapped.problems.map((p) => p.kind), ["position-order", "seqno-gap"]);
});

test("verifyLog refuses bad arguments with a clear error, before reading", async () => {
  const admin = openMemory();
  const cases: [unknown[], RegExp][] = [
    [[undefined], /^TypeError: Invalid admin undefined: expected a StoreAdmin/],
    [
      [admin, { codec: {} }],
      /^TypeError: Invalid codec \[object Object\]: expected a Binarize or an object with decode/,
    ],
    [[admin, { codec: "json" }], /^TypeError: Invalid codec "json"/],
    [[admin, { densePositions: 1 }], /^TypeError: Invalid densePositions 1: expected a boolean/],
    [
      [admin, { maxProblems: 0 }],
      /^RangeError: Invalid maxProblems 0: expected a positive integer/,
    ],
    [[admin, { onProgress: 3 }], /^TypeError: Invalid onProgress 3: expected a function/],
  ];
  for (const [args, expected] of cases) {
    await assert.rejects(
      (verifyLog as (...a: unknown[]) => Promise<unknown>)(...args),
      (error: Error) => expected.test(`${error.name}: ${error.message}`),
      String(expected),
    );
  }
  await assert.rejects(verifyLog(admin, { signal: AbortSignal.abort(new Error("stop")) }), /stop/);
});

test("verifyLog finds a deleted event in PGlite: a gap in the entity's seqNos and in the positions", async () => {
  const db = await PGlite.create();
  try {
    const admin = new PgliteStoreAdmin(db, { tablePrefix: "gap_" });
    await admin.setup();
    const typeName = uniqueTypeName();
    await fillStore(admin, [typeName], 2, 4);
    assert.equal((await verifyLog(admin, { codec: jsonBinarize() })).ok, true);
    const { rows } = await db.query<{ position: number }>(
      `delete from "public"."gap_events" where type_name = $1 and id = 'entity-1' and seq_no = 2
       returning position`,
      [typeName],
    );
    const position = Number(rows[0]!.position);
    const report = await verifyLog(admin, { densePositions: true });
    assert.deepEqual(report.problems.map((p) => [p.kind, p.id, p.seqNo]), [
      ["position-gap", "entity-0", 3],
      ["seqno-gap", "entity-1", 3],
    ]);
    assert.deepEqual((await verifyLog(admin)).problems.map((p) => [p.kind, p.id, p.seqNo]), [
      ["seqno-gap", "entity-1", 3],
    ]);
    assert.equal(position, 4);
    assert.match(
      report.problems[1]!.message,
      new RegExp(`^Entity "${typeName}" "entity-1": seqNo 3 after seqNo 1$`),
    );
    await admin.close();
  } finally {
    await db.close();
  }
});

test("verifyLog passes deletions a snapshot covers and finds those none covers", async () => {
  const admin = openMemory();
  const stores = { eventLog: admin.eventLog, snapshotStore: admin.snapshotStore };
  const typeName = uniqueTypeName();
  const bytes = new TextEncoder().encode("{}");
  for (const id of ["a", "b", "c", "d"]) {
    await admin.eventLog.persist(typeName, id, null, [bytes, bytes, bytes, bytes]);
  }
  await admin.snapshotStore.save(typeName, "a", 3, bytes);
  await deleteEventsUpTo(stores, typeName, "a");
  // The newest entity deleted entirely leaves a gap at the type's head: positions only rise.
  await deleteEntity(stores, typeName, "d");
  await admin.eventLog.persist(typeName, "e", null, [bytes]);
  const sound = await verifyLog(admin, { codec: jsonBinarize() });
  assert.deepEqual([sound.ok, sound.entities, sound.events, sound.snapshots], [true, 4, 10, 1]);

  // Deleted through the log alone, with no snapshot or one that stops short of the deletion.
  await admin.eventLog.deleteEvents!(typeName, "b", 2);
  await admin.snapshotStore.save(typeName, "c", 1, bytes);
  await admin.eventLog.deleteEvents!(typeName, "c", 3);
  const report = await verifyLog(admin);
  assert.deepEqual(report.problems.map((p) => [p.kind, p.id, p.seqNo, p.message]), [
    [
      "seqno-gap",
      "b",
      3,
      `Entity "${typeName}" "b": seqNo 3 as its first event: seqNos 1 to 2 are missing and no snapshot covers them`,
    ],
    [
      "seqno-gap",
      "c",
      4,
      `Entity "${typeName}" "c": seqNo 4 as its first event: seqNos 1 to 3 are missing and its snapshot at seqNo 1 does not cover them`,
    ],
  ]);
  assert.equal(report.problems[0]!.position, 7, "the position of b's first kept event");
});
