// Hostile input against every backend (memory, PGlite, PostgreSQL, NATS): ids built to break
// out of their place (SQL fragments, quotes, LIKE and NATS wildcards, dots, control
// characters, non-ASCII, look-alikes, the longest allowed) are stored and read back exactly,
// in events and snapshots, and none reaches another entity's data; ids and typeNames that
// cannot be stored (empty, NUL, lone surrogates, too long, typeNames outside
// [A-Za-z0-9_-]) are rejected with a TypeError or RangeError (a SpawnError naming the problem
// from spawn) before any I/O: here against backends that cannot do any I/O. Oversized events
// and batches on NATS (a server with a small max_payload) fail that command with a clear
// cause and leave the entity usable; huge batches on the SQL backends and memory are stored
// whole.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { freePort } from "./_servers/free_port.ts";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { wsconnect } from "@nats-io/nats-core";
import {
  type Command,
  type CommandEffect,
  emit,
  emitAndReply,
  type EventLog,
  EventReader,
  isHandleCommandError,
  isSpawnError,
  MemoryEventLog,
  MemorySnapshotStore,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { PostgresEventLog, PostgresSnapshotStore } from "../adapters/postgres/mod.ts";
import { PgliteEventLog, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { NatsEventLog, NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { add, getState, taggedBinarize, taggedCounter, type TaggedEvent } from "./_faults/load.ts";

/** The NATS server's max_payload: small, so oversized messages are cheap to build. */
const MAX_PAYLOAD = 64 * 1024;

let pg: PostgresServer;
let sql: postgres.Sql;
let pglite: PGlite;
let nats: NatsTestServer;

before(async () => {
  pg = await startPostgres({ fsync: false });
  sql = postgres(pg.url, { max: 4, onnotice: () => {} });
  await new PostgresEventLog(sql).setup();
  await new PostgresSnapshotStore(sql).setup();
  pglite = await PGlite.create();
  await new PgliteEventLog(pglite).setup();
  await new PgliteSnapshotStore(pglite).setup();
  nats = await startNatsServer({ maxPayload: MAX_PAYLOAD });
}, { timeout: 60_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await pg?.stop();
  await pglite?.close();
  await nats?.dispose();
}, { timeout: 60_000 });

/** Ids every backend must store and give back exactly, each its own entity. */
const HOSTILE_IDS: readonly string[] = [
  "'; drop table eventsourced_events; --",
  "' or '1'='1",
  '"; select pg_sleep(30); --',
  "'); delete from eventsourced_snapshots; --",
  "$1",
  "$$ language plpgsql $$",
  "\\",
  "\\x00",
  "%",
  "_",
  "a%b_c",
  "a.b",
  "a=2Eb",
  "=2E",
  "=",
  ".",
  "..",
  ".a",
  "a.",
  "*",
  ">",
  "a.*",
  "a.>",
  "foo.*.bar",
  "$JS.API.STREAM.DELETE.eventsourced",
  "$KV.eventsourced_snapshots.x",
  "_INBOX.x",
  " ",
  "a b",
  " a",
  "a ",
  "\t",
  "\r\n",
  "\n",
  "\u0001",
  "\u007f",
  "ü",
  "日本語",
  "😀",
  "\u00e9", // é, precomposed
  "e\u0301", // é, decomposed: a different id
  "\u202eevil", // right-to-left override
  "\u2028",
  "A",
  "a",
  "-",
  "0",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "x".repeat(256),
  "😀".repeat(128),
  "日".repeat(256),
];

/** Ids no backend may store: each with the error class it must raise. */
const BAD_IDS: readonly [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
  ["", TypeError, /Invalid id ""/],
  ["a\u0000b", TypeError, /NUL/],
  ["\u0000", TypeError, /NUL/],
  ["x".repeat(257), RangeError, /257 characters, at most 256/],
  ["😀".repeat(128) + "x", RangeError, /at most 256/],
  ["\ud800", TypeError, /surrogate/],
  ["a\udc00b", TypeError, /surrogate/],
  [42, TypeError, /expected a string/],
  [null, TypeError, /expected a string/],
  [undefined, TypeError, /expected a string/],
];

/** Type names every backend takes. */
const GOOD_TYPE_NAMES = ["a", "A", "-", "_", "--", "x".repeat(64), "Aa0_-"];

/** Type names no backend may take. */
const BAD_TYPE_NAMES: readonly unknown[] = [
  "",
  "a.b",
  "*",
  ">",
  "a.>",
  "a b",
  "counter'; drop table eventsourced_events; --",
  '"',
  "ü",
  "x".repeat(65),
  "a\u0000",
  "a/b",
  "$JS",
  42,
  null,
];

interface Stores {
  eventLog: EventLog;
  snapshotStore: SnapshotStore;
  close(): Promise<void>;
}

const backends: Record<string, () => Promise<Stores>> = {
  memory: () =>
    Promise.resolve({
      eventLog: new MemoryEventLog(),
      snapshotStore: new MemorySnapshotStore(),
      close: () => Promise.resolve(),
    }),
  PGlite: () =>
    Promise.resolve({
      eventLog: new PgliteEventLog(pglite),
      snapshotStore: new PgliteSnapshotStore(pglite),
      close: () => Promise.resolve(),
    }),
  PostgreSQL: () =>
    Promise.resolve({
      eventLog: new PostgresEventLog(sql),
      snapshotStore: new PostgresSnapshotStore(sql),
      close: () => Promise.resolve(),
    }),
  NATS: async () => {
    const nc = await wsconnect({ servers: nats.wsUrl });
    const eventLog = new NatsEventLog(nc);
    const snapshotStore = new NatsSnapshotStore(nc);
    await eventLog.setup();
    await snapshotStore.setup();
    return { eventLog, snapshotStore, close: () => nc.close() };
  },
};

/** Writes one event per id (with a snapshot after it), for two type names, then reads back. */
async function hostileIds(open: () => Promise<Stores>): Promise<void> {
  const stores = await open();
  try {
    const { eventLog, snapshotStore } = stores;
    const first = uniqueTypeName("hostile");
    // A second type name that shares a prefix with the first, with the same ids.
    const second = `${first}-2`;
    const amount = (typeName: string, i: number) => (typeName === first ? 1 : 1_000) + i;
    for (const typeName of [first, second]) {
      const entity = taggedCounter(typeName);
      for (const [i, id] of HOSTILE_IDS.entries()) {
        const ref = await spawn(entity, id, {
          eventLog,
          snapshotStore,
          snapshotAfter: 1,
          binarize: taggedBinarize,
          onError: (error) => assert.fail(`snapshot of ${JSON.stringify(id)}: ${error.message}`),
        });
        assert.equal(ref.id, id);
        const result = await ref.handleCommand(add(`${typeName}#${i}`, amount(typeName, i)));
        assert.deepEqual(result, { ok: true, value: amount(typeName, i) }, JSON.stringify(id));
        await ref.stop(); // waits for the snapshot
      }
    }
    for (const typeName of [first, second]) {
      const entity = taggedCounter(typeName);
      for (const [i, id] of HOSTILE_IDS.entries()) {
        const name = `${typeName}/${JSON.stringify(id)}`;
        const events = await collect(eventLog.eventsById(typeName, id, 1));
        assert.equal(events.length, 1, `${name}: one event`);
        const [event] = events;
        assert.equal(event!.id, id, `${name}: the id comes back exactly`);
        assert.equal(event!.typeName, typeName);
        assert.equal(event!.seqNo, 1);
        assert.deepEqual(taggedBinarize.eventFromBytes(event!.bytes), {
          tag: `${typeName}#${i}`,
          by: amount(typeName, i),
        });
        assert.equal(await eventLog.lastSeqNo(typeName, id), 1, name);
        const snapshot = await snapshotStore.load(typeName, id);
        assert.ok(snapshot !== null, `${name}: its snapshot`);
        assert.equal(snapshot.seqNo, 1);
        assert.equal(taggedBinarize.stateFromBytes(snapshot.bytes), amount(typeName, i), name);
        // Spawned again (from its snapshot), it has its own state and goes on.
        const ref = await spawn(entity, id, { eventLog, snapshotStore, binarize: taggedBinarize });
        assert.deepEqual(await ref.handleCommand(getState), {
          ok: true,
          value: amount(typeName, i),
        });
        await ref.stop();
      }
      // By type: each id once, exactly, and nothing of the other type name.
      const byType = await collect(eventLog.eventsByType(typeName, 0));
      assert.deepEqual(byType.map((e) => e.id), [...HOSTILE_IDS], `${typeName}: ids by type`);
      assert.ok(byType.every((e) => e.typeName === typeName));
      const reader = new EventReader<TaggedEvent>(typeName, { eventLog, binarize: taggedBinarize });
      const decoded = await collect(reader.eventsByType());
      assert.deepEqual(
        decoded.map((e) => e.event.by),
        HOSTILE_IDS.map((_, i) => amount(typeName, i)),
      );
    }
    // Ids that differ only where an encoding or a collation could merge them stay apart.
    for (const [x, y] of [["a.b", "a=2Eb"], ["\u00e9", "e\u0301"], ["A", "a"], [" a", "a "]]) {
      assert.notDeepEqual(
        await collect(eventLog.eventsById(first, x!, 1)).then((e) => e[0]!.bytes),
        await collect(eventLog.eventsById(first, y!, 1)).then((e) => e[0]!.bytes),
      );
    }
  } finally {
    await stores.close();
  }
}

/** Type names at the edges of the allowed alphabet work. */
async function goodTypeNames(open: () => Promise<Stores>): Promise<void> {
  const stores = await open();
  try {
    const { eventLog, snapshotStore } = stores;
    const suffix = uniqueTypeName("").replace(/^-/, "");
    for (const [i, base] of GOOD_TYPE_NAMES.entries()) {
      // Unique per run, within the 64 characters.
      const typeName = `${base}${suffix}`.slice(-64);
      const ref = await spawn(taggedCounter(typeName), "id", {
        eventLog,
        snapshotStore,
        snapshotAfter: 1,
        binarize: taggedBinarize,
      });
      assert.deepEqual(await ref.handleCommand(add(`t${i}`, i + 1)), { ok: true, value: i + 1 });
      await ref.stop();
      const events = await collect(eventLog.eventsByType(typeName, 0));
      assert.deepEqual(events.map((e) => [e.typeName, e.id]), [[typeName, "id"]]);
    }
  } finally {
    await stores.close();
  }
}

/** Stores of each backend that cannot do any I/O: any call that reaches I/O fails otherwise. */
const offline: Record<string, () => Promise<Stores>> = {
  memory: backends.memory!,
  PGlite: async () => {
    const db = await PGlite.create();
    await db.close();
    return {
      eventLog: new PgliteEventLog(db),
      snapshotStore: new PgliteSnapshotStore(db),
      close: () => Promise.resolve(),
    };
  },
  PostgreSQL: async () => {
    const client = postgres(`postgres://postgres@127.0.0.1:${await freePort()}/none`, {
      max: 1,
      connect_timeout: 2,
      onnotice: () => {},
    });
    return {
      eventLog: new PostgresEventLog(client),
      snapshotStore: new PostgresSnapshotStore(client),
      close: () => client.end({ timeout: 1 }),
    };
  },
  NATS: async () => {
    const nc = await wsconnect({ servers: nats.wsUrl });
    await nc.close();
    return {
      eventLog: new NatsEventLog(nc),
      snapshotStore: new NatsSnapshotStore(nc),
      close: () => Promise.resolve(),
    };
  },
};

/** Settles a call that may throw at once, reject, or return a stream that errors. */
async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const value = await call();
    if (value instanceof ReadableStream) await collect(value);
    return undefined;
  } catch (error) {
    return error;
  }
}

function assertArgumentError(
  error: unknown,
  kind: typeof TypeError | typeof RangeError,
  message: RegExp,
  what: string,
): void {
  assert.ok(error instanceof kind, `${what}: a ${kind.name}, not ${error}`);
  assert.match((error as Error).message, message, what);
}

async function rejectedBeforeIo(open: () => Promise<Stores>): Promise<void> {
  const stores = await open();
  try {
    const { eventLog, snapshotStore } = stores;
    const bytes = [new Uint8Array([1])];
    const typeName = "counter";
    for (const [id, kind, message] of BAD_IDS) {
      const bad = id as string;
      const what = `id ${JSON.stringify(id)}`;
      for (
        const [name, call] of [
          ["persist", () => eventLog.persist(typeName, bad, null, bytes)],
          ["lastSeqNo", () => eventLog.lastSeqNo(typeName, bad)],
          ["eventsById", () => eventLog.eventsById(typeName, bad, 1)],
          ["save", () => snapshotStore.save(typeName, bad, 1, bytes[0]!)],
          ["load", () => snapshotStore.load(typeName, bad)],
        ] as const
      ) {
        assertArgumentError(await outcome(call), kind, message, `${name} with ${what}`);
      }
      const error = await outcome(() =>
        spawn(taggedCounter(typeName), bad, { eventLog, snapshotStore, binarize: taggedBinarize })
      );
      assert.ok(isSpawnError(error), `spawn with ${what}: a SpawnError, not ${error}`);
      assert.match(error.message, /Invalid id/);
      assertArgumentError(error.cause, kind, message, `spawn with ${what}: the cause`);
    }
    for (const typeName of BAD_TYPE_NAMES) {
      const bad = typeName as string;
      const what = `typeName ${JSON.stringify(typeName)}`;
      for (
        const [name, call] of [
          ["persist", () => eventLog.persist(bad, "a", null, bytes)],
          ["lastSeqNo", () => eventLog.lastSeqNo(bad, "a")],
          ["eventsById", () => eventLog.eventsById(bad, "a", 1)],
          ["eventsByType", () => eventLog.eventsByType(bad, 0)],
          ["save", () => snapshotStore.save(bad, "a", 1, bytes[0]!)],
          ["load", () => snapshotStore.load(bad, "a")],
          ["EventReader", () => new EventReader(bad, { eventLog, binarize: taggedBinarize })],
        ] as const
      ) {
        assertArgumentError(
          await outcome(call),
          TypeError,
          /Invalid typeName/,
          `${name} with ${what}`,
        );
      }
      const error = await outcome(() =>
        spawn(taggedCounter(bad), "a", { eventLog, snapshotStore, binarize: taggedBinarize })
      );
      assert.ok(isSpawnError(error), `spawn with ${what}: a SpawnError, not ${error}`);
      assert.match(error.message, /Invalid typeName/);
      assertArgumentError(error.cause, TypeError, /Invalid typeName/, `spawn with ${what}`);
    }
  } finally {
    await stores.close();
  }
}

for (const name of Object.keys(backends)) {
  test(
    `hostile ids on ${name}: each is stored and read back exactly, in events and snapshots, and stays its own entity`,
    {
      timeout: 120_000,
    },
    () => hostileIds(backends[name]!),
  );

  test(
    `type names at the edges of the alphabet work on ${name}`,
    { timeout: 60_000 },
    () => goodTypeNames(backends[name]!),
  );

  test(
    `bad ids and type names are rejected with TypeError or RangeError before any I/O on ${name}`,
    {
      timeout: 60_000,
    },
    () => rejectedBeforeIo(offline[name]!),
  );
}

// A leading U+FEFF is the one character a default TextDecoder drops (it takes it for a byte
// order mark): an id that starts with it must still come back whole, or its events are read
// as another entity's ("\ufeffbom" as "bom", "\ufeff" as "").
const BOM_IDS = ["bom", "\ufeffbom", "\ufeff", "\ufeff\ufeff"];

async function bomIds(open: () => Promise<Stores>): Promise<void> {
  const stores = await open();
  try {
    const { eventLog } = stores;
    const typeName = uniqueTypeName("bom");
    for (const [i, id] of BOM_IDS.entries()) {
      const ref = await spawn(taggedCounter(typeName), id, { eventLog, binarize: taggedBinarize });
      assert.deepEqual(await ref.handleCommand(add(`bom${i}`, i + 1)), { ok: true, value: i + 1 });
      await ref.stop();
    }
    for (const id of BOM_IDS) {
      const events = await collect(eventLog.eventsById(typeName, id, 1));
      assert.deepEqual(events.map((e) => e.id), [id]);
    }
    const byType = await collect(eventLog.eventsByType(typeName, 0));
    assert.deepEqual(
      byType.map((e) => JSON.stringify(e.id)),
      BOM_IDS.map((id) => JSON.stringify(id)),
      "eventsByType gives every id back exactly",
    );
  } finally {
    await stores.close();
  }
}

for (const name of Object.keys(backends)) {
  test(`ids that start with U+FEFF (a byte order mark) come back whole from eventsByType on ${name}`, () =>
    bomIds(backends[name]!));
}

/** Emits `count` events of `size` bytes each (strings of "x"), replies nothing. */
type BlobEvent = string;
const blobs = (count: number, size: number): Command<number, BlobEvent, undefined, never> => ({
  handleCommand: (): CommandEffect<number, BlobEvent, undefined, never> =>
    emit(Array.from({ length: count }, () => "x".repeat(size))),
});
const blobEntity = (typeName: string) => ({
  typeName,
  initialState: 0,
  handleEvent: (state: number, event: BlobEvent) => state + event.length,
});
const blobBinarize = {
  eventToBytes: (event: string) => new TextEncoder().encode(event),
  eventFromBytes: (bytes: Uint8Array) => new TextDecoder().decode(bytes),
  stateToBytes: (state: number) => new TextEncoder().encode(String(state)),
  stateFromBytes: (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes)),
};
const stateOf: Command<number, BlobEvent, number, never> = {
  handleCommand: (_id, state) => ({ type: "reply", value: state }),
};

test(
  "oversized events on NATS (beyond max_payload: one big event, a big batch, too many events) fail that command clearly and leave the entity usable",
  {
    timeout: 60_000,
  },
  async () => {
    const stores = await backends.NATS!();
    try {
      const { eventLog } = stores;
      const typeName = uniqueTypeName("oversized");
      const ref = await spawn(blobEntity(typeName), "big", { eventLog, binarize: blobBinarize });
      assert.deepEqual(await ref.handleCommand(blobs(1, 10)), { ok: true, value: undefined });
      let expected = 10;
      let seqNo = 1;
      for (
        const [what, count, size, cause] of [
          ["one event of twice max_payload", 1, 2 * MAX_PAYLOAD, /max_payload|maxEventBytes/],
          [
            "a batch of 100 events, twice max_payload together",
            100,
            (2 * MAX_PAYLOAD) / 100,
            /max_payload/,
          ],
          ["a batch of 100 001 events", 100_001, 0, /100000 per persist/],
        ] as const
      ) {
        const error = await ref.handleCommand(blobs(count, size)).then(
          () => assert.fail(`${what}: the command succeeded`),
          (e: unknown) => e,
        );
        assert.ok(isHandleCommandError(error), `${what}: a HandleCommandError, not ${error}`);
        assert.equal(error.reason, "persist-failed", what);
        assert.ok(error.cause instanceof Error);
        assert.match(error.cause.message, cause, `${what}: the cause says why`);
        console.log(`  oversized on NATS, ${what}: ${error.message} <- ${error.cause.message}`);
        // Nothing was written, and the entity goes on at the next seqNo.
        assert.equal(await eventLog.lastSeqNo(typeName, "big"), seqNo, what);
        assert.deepEqual(await ref.handleCommand(blobs(2, 5)), { ok: true, value: undefined });
        expected += 10;
        seqNo += 2;
        assert.deepEqual(await ref.handleCommand(stateOf), { ok: true, value: expected }, what);
        assert.equal(await eventLog.lastSeqNo(typeName, "big"), seqNo, what);
      }
      // Just under max_payload still goes through.
      assert.deepEqual(await ref.handleCommand(blobs(1, MAX_PAYLOAD - 1024)), {
        ok: true,
        value: undefined,
      });
      await ref.stop();
      const again = await spawn(blobEntity(typeName), "big", { eventLog, binarize: blobBinarize });
      assert.deepEqual(await again.handleCommand(stateOf), {
        ok: true,
        value: expected + MAX_PAYLOAD - 1024,
      });
      await again.stop();
    } finally {
      await stores.close();
    }
  },
);

for (const name of ["memory", "PGlite", "PostgreSQL"]) {
  test(
    `a huge batch on ${name} (30 000 events, 3 MB, in one command) is stored whole and the entity goes on`,
    {
      timeout: 120_000,
    },
    async () => {
      const stores = await backends[name]!();
      try {
        const { eventLog } = stores;
        const typeName = uniqueTypeName("hugebatch");
        const ref = await spawn(blobEntity(typeName), "huge", { eventLog, binarize: blobBinarize });
        assert.deepEqual(await ref.handleCommand(blobs(30_000, 100)), {
          ok: true,
          value: undefined,
        });
        assert.deepEqual(await ref.handleCommand(blobs(1, 1)), { ok: true, value: undefined });
        assert.deepEqual(await ref.handleCommand(stateOf), { ok: true, value: 3_000_001 });
        await ref.stop();
        assert.equal(await eventLog.lastSeqNo(typeName, "huge"), 30_001);
        const again = await spawn(blobEntity(typeName), "huge", {
          eventLog,
          binarize: blobBinarize,
        });
        assert.deepEqual(await again.handleCommand(stateOf), { ok: true, value: 3_000_001 });
        await again.stop();
      } finally {
        await stores.close();
      }
    },
  );
}

test(
  "a state too big for a NATS snapshot (beyond max_payload) is reported to onError, never fatal: the entity goes on and spawns again from its events",
  {
    timeout: 60_000,
  },
  async () => {
    const stores = await backends.NATS!();
    try {
      const { eventLog, snapshotStore } = stores;
      const typeName = uniqueTypeName("bigstate");
      // The state keeps every event: two events of 0.6 × max_payload make a state that no
      // snapshot message can carry, while each event fits.
      const entity = {
        typeName,
        initialState: "",
        handleEvent: (state: string, event: string) => state + event,
      };
      const binarize = {
        eventToBytes: (event: string) => new TextEncoder().encode(event),
        eventFromBytes: (bytes: Uint8Array) => new TextDecoder().decode(bytes),
        stateToBytes: (state: string) => new TextEncoder().encode(state),
        stateFromBytes: (bytes: Uint8Array) => new TextDecoder().decode(bytes),
      };
      const part = "y".repeat(Math.floor(MAX_PAYLOAD * 0.6));
      const append: Command<string, string, number, never> = {
        handleCommand: () => emitAndReply(part, (state: string) => state.length),
      };
      const reported: Error[] = [];
      const options = {
        eventLog,
        snapshotStore,
        snapshotAfter: 1,
        binarize,
        onError: (error: Error) => void reported.push(error),
      };
      const ref = await spawn(entity, "grows", options);
      assert.deepEqual(await ref.handleCommand(append), { ok: true, value: part.length });
      assert.deepEqual(await ref.handleCommand(append), { ok: true, value: 2 * part.length });
      assert.deepEqual(await ref.handleCommand(append), { ok: true, value: 3 * part.length });
      await ref.stop(); // waits for the snapshot saves
      assert.ok(reported.length >= 1, "the failed snapshot saves were reported");
      for (const error of reported) {
        assert.match(error.message, /Cannot save snapshot of/);
        assert.match(String((error.cause as Error)?.message), /max_payload/);
      }
      console.log(
        `  big state on NATS: ${reported[0]!.message} <- ${(reported[0]!.cause as Error).message}`,
      );
      // The newest snapshot that fitted is behind the log; spawning replays the rest.
      const again = await spawn(entity, "grows", options);
      assert.deepEqual(await again.handleCommand(append), { ok: true, value: 4 * part.length });
      await again.stop();
    } finally {
      await stores.close();
    }
  },
);
