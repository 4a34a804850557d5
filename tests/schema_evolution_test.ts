// Schema evolution on every backend: an event log written by version 1 of the code is replayed,
// read by type and projected by version 3 of the code, whose JSON codec upcasts v1 → v2 → v3;
// an event of version 4 (newer code) is refused with a DecodeError; a snapshot the v3 code
// cannot read is passed over, one it can upcast is used. Memory, PGlite, PostgreSQL and NATS
// (real servers on free loopback ports) run the same scenarios.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import {
  emit,
  type EventLog,
  type EventMetadata,
  EventReader,
  type EventSourced,
  isDecodeError,
  isSpawnError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  type PersistedEvent,
  type ReadOptions,
  reply,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import {
  type EventEnvelope,
  MemoryOffsetStore,
  type OffsetStore,
  Projection,
  type ProjectionError,
} from "../projection/mod.ts";
import {
  PostgresEventLog,
  PostgresOffsetStore,
  PostgresSnapshotStore,
} from "../adapters/postgres/mod.ts";
import { PgliteEventLog, PgliteOffsetStore, PgliteSnapshotStore } from "../adapters/pglite/mod.ts";
import { NatsEventLog, NatsOffsetStore, NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type PostgresServer, startPostgres } from "./_servers/postgres.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

// --- Three versions of a wallet's events and states -----------------------------------------

/** Version 1 of the events: a kind and an amount in cents. */
type EventV1 = { kind: "deposit" | "withdrawal"; amount: number };
/** Version 2: past-tense types, the amount renamed to cents. */
type EventV2 = { type: "deposited" | "withdrawn"; cents: number };
/** Version 3 (current): money with a currency. */
type EventV3 = { type: "deposited" | "withdrawn"; money: { cents: number; currency: string } };

/** Version 1 of the state: the balance in cents. Version 2: `{ cents }`. Version 3: money. */
type StateV2 = { cents: number };
type StateV3 = { cents: number; currency: string };

const upcastEvent1 = ({ kind, amount }: EventV1): EventV2 => ({
  type: kind === "deposit" ? "deposited" : "withdrawn",
  cents: amount,
});
const upcastEvent2 = ({ type, cents }: EventV2): EventV3 => ({
  type,
  money: { cents, currency: "EUR" },
});

/** What version 1 of the code wrote with: the plain JSON codec. */
const codecV1 = jsonBinarize<EventV1, number>();
/** Version 2 of the code: reads v1 events; writes v2 events and v2 states. */
const codecV2 = jsonBinarize<EventV2, StateV2>({
  version: 2,
  upcast: { 1: upcastEvent1 },
  stateVersion: 2,
  stateUpcast: { 1: (cents: number): StateV2 => ({ cents }) },
});
/**
 * Version 3 of the code: reads v1 and v2 events; reads v2 states but no longer v1 ones (their
 * upcaster was dropped), so a v1 snapshot is passed over.
 */
const codecV3 = jsonBinarize<EventV3, StateV3>({
  version: 3,
  upcast: { 1: upcastEvent1, 2: upcastEvent2 },
  stateVersion: 3,
  stateUpcast: { 2: ({ cents }: StateV2): StateV3 => ({ cents, currency: "EUR" }) },
});
/** Version 4, newer than the code under test: only used to write an event it cannot read. */
const codecV4 = jsonBinarize<{ v4: true }, unknown>({ version: 4 });

const walletV1 = (typeName: string): EventSourced<number, EventV1> => ({
  typeName,
  initialState: 0,
  handleEvent: (balance, { kind, amount }) =>
    kind === "deposit" ? balance + amount : balance - amount,
});
const walletV2 = (typeName: string): EventSourced<StateV2, EventV2> => ({
  typeName,
  initialState: { cents: 0 },
  handleEvent: ({ cents }, event) => ({
    cents: event.type === "deposited" ? cents + event.cents : cents - event.cents,
  }),
});
const walletV3 = (typeName: string): EventSourced<StateV3, EventV3> => ({
  typeName,
  initialState: { cents: 0, currency: "EUR" },
  handleEvent: (state, { type, money }) => {
    assert.equal(money.currency, state.currency, "every upcast event has the currency");
    return {
      cents: type === "deposited" ? state.cents + money.cents : state.cents - money.cents,
      currency: state.currency,
    };
  },
});

const deposit = (amount: number) => ({
  handleCommand: () => emit<EventV1>({ kind: "deposit", amount }),
});
const withdraw = (amount: number) => ({
  handleCommand: () => emit<EventV1>({ kind: "withdrawal", amount }),
});
const stateOf = <State>() => ({ handleCommand: (_id: string, state: State) => reply(state) });

/** The commands version 1 of the code ran, each with its metadata, and the events they mean. */
const HISTORY: readonly {
  command: { handleCommand: () => ReturnType<typeof emit<EventV1>> };
  metadata: EventMetadata;
  upcast: EventV3;
}[] = [
  {
    command: deposit(500),
    metadata: { commandId: "cmd-1", correlationId: "signup-7", headers: { user: "ada" } },
    upcast: { type: "deposited", money: { cents: 500, currency: "EUR" } },
  },
  {
    command: deposit(300),
    metadata: { commandId: "cmd-2", correlationId: "topup-8", causationId: "cmd-1" },
    upcast: { type: "deposited", money: { cents: 300, currency: "EUR" } },
  },
  {
    command: withdraw(200),
    metadata: {},
    upcast: { type: "withdrawn", money: { cents: 200, currency: "EUR" } },
  },
];

// --- Backends -------------------------------------------------------------------------------

interface Backend {
  readonly eventLog: EventLog;
  readonly snapshotStore: SnapshotStore;
  readonly offsetStore: OffsetStore<unknown>;
  close(): Promise<void>;
}

let pg: PostgresServer;
let sql: postgres.Sql;
let pglite: PGlite;
let nats: NatsTestServer;

before(async () => {
  pg = await startPostgres({ fsync: false });
  sql = postgres(pg.url, { max: 4, onnotice: () => {} });
  await new PostgresEventLog(sql).setup();
  await new PostgresSnapshotStore(sql).setup();
  await new PostgresOffsetStore(sql).setup();
  pglite = await PGlite.create();
  await new PgliteEventLog(pglite).setup();
  await new PgliteSnapshotStore(pglite).setup();
  await new PgliteOffsetStore(pglite).setup();
  nats = await startNatsServer();
}, { timeout: 60_000 });

after(async () => {
  await sql?.end({ timeout: 5 });
  await pg?.stop();
  await pglite?.close();
  await nats?.dispose();
}, { timeout: 60_000 });

const BACKENDS: Record<string, () => Promise<Backend>> = {
  memory: () =>
    Promise.resolve({
      eventLog: new MemoryEventLog(),
      snapshotStore: new MemorySnapshotStore(),
      offsetStore: new MemoryOffsetStore(),
      close: () => Promise.resolve(),
    }),
  PGlite: () =>
    Promise.resolve({
      eventLog: new PgliteEventLog(pglite),
      snapshotStore: new PgliteSnapshotStore(pglite),
      offsetStore: new PgliteOffsetStore(pglite) as OffsetStore<unknown>,
      close: () => Promise.resolve(),
    }),
  PostgreSQL: () =>
    Promise.resolve({
      eventLog: new PostgresEventLog(sql),
      snapshotStore: new PostgresSnapshotStore(sql),
      offsetStore: new PostgresOffsetStore(sql) as OffsetStore<unknown>,
      close: () => Promise.resolve(),
    }),
  NATS: async () => {
    const nc: NatsConnection = await wsconnect({ servers: nats.wsUrl });
    const eventLog = new NatsEventLog(nc);
    const snapshotStore = new NatsSnapshotStore(nc);
    const offsetStore = new NatsOffsetStore(nc);
    await eventLog.setup();
    await snapshotStore.setup();
    await offsetStore.setup();
    return { eventLog, snapshotStore, offsetStore, close: () => nc.close() };
  },
};

/** An EventLog that notes where each `eventsById` read starts, to tell a replay's first seqNo. */
class ReadsFrom implements EventLog {
  readonly starts: number[] = [];
  readonly #inner: EventLog;
  constructor(inner: EventLog) {
    this.#inner = inner;
  }
  persist(...args: Parameters<EventLog["persist"]>): Promise<number> {
    return this.#inner.persist(...args);
  }
  lastSeqNo(...args: Parameters<EventLog["lastSeqNo"]>): Promise<number | null> {
    return this.#inner.lastSeqNo(...args);
  }
  eventsById(
    typeName: string,
    id: string,
    fromSeqNo: number,
    options?: ReadOptions,
  ): ReadableStream<PersistedEvent> {
    this.starts.push(fromSeqNo);
    return this.#inner.eventsById(typeName, id, fromSeqNo, options);
  }
  eventsByType(...args: Parameters<EventLog["eventsByType"]>): ReadableStream<PersistedEvent> {
    return this.#inner.eventsByType(...args);
  }
}

/** Runs the commands of HISTORY on entity `id` with version 1 of the code. */
async function writeWithV1(eventLog: EventLog, typeName: string, id: string): Promise<void> {
  const ref = await spawn(walletV1(typeName), id, { eventLog, binarize: codecV1 });
  for (const { command, metadata } of HISTORY) {
    const result = await ref.handleCommand(command, { metadata });
    assert.equal(result.ok, true);
  }
  await ref.stop();
}

/** Writes one event of version 4 to entity `id`, as newer code would. */
async function writeWithV4(eventLog: EventLog, typeName: string, id: string): Promise<number> {
  const entity: EventSourced<unknown, { v4: true }> = {
    typeName,
    initialState: null,
    handleEvent: (state) => state,
  };
  // Version-4 code reads what came before as it likes; this one ignores it.
  const newer = { ...codecV4, eventFromBytes: () => ({ v4: true as const }) };
  const ref = await spawn(entity, id, { eventLog, binarize: newer });
  await ref.handleCommand({ handleCommand: () => emit({ v4: true as const }) });
  await ref.stop();
  const last = await eventLog.lastSeqNo(typeName, id);
  assert.ok(last !== null);
  return last;
}

const withBackend =
  (open: () => Promise<Backend>, scenario: (b: Backend) => Promise<void>) => async () => {
    const backend = await open();
    try {
      await scenario(backend);
    } finally {
      await backend.close();
    }
  };

const envelopeOf = (envelope: EventEnvelope<EventV3>) => ({
  id: envelope.id,
  seqNo: envelope.seqNo,
  event: envelope.event,
  version: envelope.version,
  metadata: envelope.metadata,
});

// --- The scenarios, on every backend --------------------------------------------------------

for (const [name, open] of Object.entries(BACKENDS)) {
  test(
    `${name}: an entity written with a v1 codec replays through the v1 → v3 chain and writes v3`,
    {
      timeout: 60_000,
    },
    withBackend(open, async ({ eventLog }) => {
      const typeName = uniqueTypeName("wallet");
      await writeWithV1(eventLog, typeName, "w1");

      const ref = await spawn(walletV3(typeName), "w1", { eventLog, binarize: codecV3 });
      assert.deepEqual(await ref.handleCommand(stateOf<StateV3>()), {
        ok: true,
        value: { cents: 600, currency: "EUR" },
      });
      const result = await ref.handleCommand({
        handleCommand: () =>
          emit<EventV3>({ type: "deposited", money: { cents: 50, currency: "EUR" } }),
      }, { metadata: { correlationId: "v3-topup" } });
      assert.deepEqual(result, { ok: true, value: undefined });
      await ref.stop();

      const stored = await collect(eventLog.eventsById(typeName, "w1", 1));
      assert.deepEqual(stored.map((e) => e.version), [1, 1, 1, 3]);
      assert.deepEqual(stored.map((e) => e.metadata), [
        ...HISTORY.map((h) => h.metadata),
        { correlationId: "v3-topup" },
      ]);
      // The v1 bytes are stored as they were written: upcasting happens on read only.
      assert.deepEqual(codecV1.eventFromBytes(stored[0]!.bytes), { kind: "deposit", amount: 500 });

      const again = await spawn(walletV3(typeName), "w1", { eventLog, binarize: codecV3 });
      assert.deepEqual(await again.handleCommand(stateOf<StateV3>()), {
        ok: true,
        value: { cents: 650, currency: "EUR" },
      });
      await again.stop();
    }),
  );

  test(
    `${name}: EventReader.eventsByType gives the upcast events with their stored version and metadata`,
    {
      timeout: 60_000,
    },
    withBackend(open, async ({ eventLog }) => {
      const typeName = uniqueTypeName("wallet");
      await writeWithV1(eventLog, typeName, "w1");
      await writeWithV1(eventLog, typeName, "w2");
      const ref = await spawn(walletV3(typeName), "w2", { eventLog, binarize: codecV3 });
      await ref.handleCommand({
        handleCommand: () =>
          emit<EventV3>({ type: "withdrawn", money: { cents: 1, currency: "EUR" } }),
      });
      await ref.stop();

      const reader = new EventReader(walletV3(typeName), { eventLog, binarize: codecV3 });
      const envelopes = await collect(reader.eventsByType());
      const expected = (id: string) =>
        HISTORY.map(({ metadata, upcast }, i) => ({
          id,
          seqNo: i + 1,
          event: upcast,
          version: 1,
          metadata,
        }));
      assert.deepEqual(envelopes.map(envelopeOf), [
        ...expected("w1"),
        ...expected("w2"),
        {
          id: "w2",
          seqNo: 4,
          event: { type: "withdrawn", money: { cents: 1, currency: "EUR" } },
          version: 3,
          metadata: {},
        },
      ]);
      for (let i = 1; i < envelopes.length; i++) {
        assert.ok(envelopes[i]!.position > envelopes[i - 1]!.position, "positions ascend");
      }
      for (const { writtenAt } of envelopes) {
        assert.ok(Number.isFinite(writtenAt) && writtenAt > 0, `writtenAt ${writtenAt}`);
      }
      // By id too, from a seqNo in the middle.
      const byId = await collect(reader.eventsById("w1", 2));
      assert.deepEqual(byId.map(envelopeOf), expected("w1").slice(1));
    }),
  );

  test(
    `${name}: a projection receives the upcast events with their metadata`,
    {
      timeout: 60_000,
    },
    withBackend(open, async ({ eventLog, offsetStore }) => {
      const typeName = uniqueTypeName("wallet");
      await writeWithV1(eventLog, typeName, "w1");
      const ref = await spawn(walletV3(typeName), "w1", { eventLog, binarize: codecV3 });
      await ref.handleCommand({
        handleCommand: () =>
          emit<EventV3>({ type: "deposited", money: { cents: 5, currency: "EUR" } }),
      }, { metadata: { causationId: "cmd-2", headers: { source: "v3" } } });
      await ref.stop();

      const seen: EventEnvelope<EventV3>[] = [];
      const balances = new Map<string, number>();
      const projection = new Projection(`balances-${typeName}`, {
        typeName,
        eventLog,
        binarize: codecV3,
        offsetStore,
        handleEvent: (envelope) => {
          seen.push(envelope);
          const { type, money } = envelope.event;
          const change = type === "deposited" ? money.cents : -money.cents;
          balances.set(envelope.id, (balances.get(envelope.id) ?? 0) + change);
        },
      });
      await projection.run();
      await within(projection.whenCaughtUp(), 30_000, "whenCaughtUp");
      await projection.stop();

      assert.deepEqual(balances, new Map([["w1", 605]]));
      assert.deepEqual(seen.map(envelopeOf), [
        ...HISTORY.map(({ metadata, upcast }, i) => ({
          id: "w1",
          seqNo: i + 1,
          event: upcast,
          version: 1,
          metadata,
        })),
        {
          id: "w1",
          seqNo: 4,
          event: { type: "deposited", money: { cents: 5, currency: "EUR" } },
          version: 3,
          metadata: { causationId: "cmd-2", headers: { source: "v3" } },
        },
      ]);
    }),
  );

  test(
    `${name}: a version-4 event written by newer code is refused with a DecodeError naming it`,
    {
      timeout: 60_000,
    },
    withBackend(open, async ({ eventLog, offsetStore }) => {
      const typeName = uniqueTypeName("wallet");
      await writeWithV1(eventLog, typeName, "w1");
      const seqNo = await writeWithV4(eventLog, typeName, "w1");
      assert.equal(seqNo, 4);
      const stored = await collect(eventLog.eventsById(typeName, "w1", 4));
      assert.equal(stored[0]!.version, 4);

      const isVersion4 = (error: unknown) =>
        isDecodeError(error) && error.version === 4 && error.seqNo === 4 && error.id === "w1" &&
        error.what === "event" && /\(version 4\).*newer than version 3/.test(error.message);

      // The entity does not start: a wrong shape is never applied.
      const spawnError = await spawn(walletV3(typeName), "w1", { eventLog, binarize: codecV3 })
        .then(() => assert.fail("spawned past a version-4 event"), (e: unknown) => e);
      assert.ok(isSpawnError(spawnError), String(spawnError));
      assert.ok(isVersion4(spawnError.cause), String(spawnError.cause));

      // The reader gives the events it can read, then fails on the newer one.
      const reader = new EventReader<EventV3>(typeName, { eventLog, binarize: codecV3 });
      const read: EventEnvelope<EventV3>[] = [];
      const readError = await (async () => {
        for await (const envelope of reader.eventsByType()) read.push(envelope);
      })().then(() => assert.fail("read past a version-4 event"), (e: unknown) => e);
      assert.ok(isVersion4(readError), String(readError));
      assert.deepEqual(read.map((e) => e.event), HISTORY.map((h) => h.upcast));

      // A projection stops at it (with the stop strategy), its offset on the event before.
      const errors: ProjectionError[] = [];
      const projection = new Projection(`v4-${typeName}`, {
        typeName,
        eventLog,
        binarize: codecV3,
        offsetStore,
        errorStrategy: { type: "stop" },
        onError: (error) => errors.push(error),
        handleEvent: () => {},
      });
      await projection.run();
      const state = await within(projection.whenStopped(), 30_000, "whenStopped");
      assert.equal(state.lastError?.reason, "event-failed");
      assert.ok(isVersion4(state.lastError?.cause), String(state.lastError?.cause));
      assert.equal(state.offset, read[read.length - 1]!.position);
      assert.equal(errors.length, 1);
    }),
  );

  test(
    `${name}: a v1 snapshot the v3 code cannot read is passed over; a v2 one it upcasts is used`,
    {
      timeout: 60_000,
    },
    withBackend(open, async ({ eventLog, snapshotStore }) => {
      const typeName = uniqueTypeName("wallet");

      // "old": version 1 of the code snapshots after every 2 events: a v1 snapshot at seqNo 2.
      const v1 = await spawn(walletV1(typeName), "old", {
        eventLog,
        snapshotStore,
        snapshotAfter: 2,
        binarize: codecV1,
      });
      for (const { command } of HISTORY) await v1.handleCommand(command);
      await v1.stop();
      const oldSnapshot = await snapshotStore.load(typeName, "old");
      assert.equal(oldSnapshot?.seqNo, 2);
      assert.equal(oldSnapshot?.version, 1);

      // "mid": two events by version 1, two by version 2, which snapshots at seqNo 4 (v2 state).
      const first = await spawn(walletV1(typeName), "mid", { eventLog, binarize: codecV1 });
      await first.handleCommand(deposit(1_000));
      await first.handleCommand(withdraw(100));
      await first.stop();
      const v2 = await spawn(walletV2(typeName), "mid", {
        eventLog,
        snapshotStore,
        snapshotAfter: 2,
        binarize: codecV2,
      });
      assert.deepEqual(await v2.handleCommand(stateOf<StateV2>()), {
        ok: true,
        value: { cents: 900 },
      });
      await v2.handleCommand({
        handleCommand: () => emit<EventV2>({ type: "deposited", cents: 40 }),
      });
      await v2.handleCommand({
        handleCommand: () => emit<EventV2>({ type: "withdrawn", cents: 20 }),
      });
      await v2.stop();
      const midSnapshot = await snapshotStore.load(typeName, "mid");
      assert.equal(midSnapshot?.seqNo, 4);
      assert.equal(midSnapshot?.version, 2);
      const stored = await collect(eventLog.eventsById(typeName, "mid", 1));
      assert.deepEqual(stored.map((e) => e.version), [1, 1, 2, 2]);

      // Version 3 of the code: "old" replays from its first event and onError hears why.
      const errors: Error[] = [];
      const reads = new ReadsFrom(eventLog);
      const options = {
        eventLog: reads,
        snapshotStore,
        binarize: codecV3,
        onError: (error: Error) => errors.push(error),
      };
      const old = await spawn(walletV3(typeName), "old", options);
      assert.deepEqual(await old.handleCommand(stateOf<StateV3>()), {
        ok: true,
        value: { cents: 600, currency: "EUR" },
      });
      await old.stop();
      assert.deepEqual(reads.starts, [1], "replayed from the first event");
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /Passed over the snapshot of ".*\/old"/);
      const cause = errors[0]!.cause;
      assert.ok(isDecodeError(cause), String(cause));
      assert.equal(cause.what, "snapshot");
      assert.equal(cause.version, 1);
      assert.equal(cause.seqNo, 2);
      assert.match(
        cause.message,
        /no stateUpcast\[1\] is given, so this codec cannot read states of version 1/,
      );

      // "mid" starts from its v2 snapshot, upcast, and replays only the events after it.
      errors.length = 0;
      reads.starts.length = 0;
      const mid = await spawn(walletV3(typeName), "mid", options);
      assert.deepEqual(await mid.handleCommand(stateOf<StateV3>()), {
        ok: true,
        value: { cents: 920, currency: "EUR" },
      });
      await mid.stop();
      assert.deepEqual(reads.starts, [5], "replayed after the snapshot at seqNo 4");
      assert.deepEqual(errors, []);
    }),
  );
}
