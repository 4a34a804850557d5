// Projections on a real nats-server (over WebSocket): events in a NatsEventLog, offsets in a
// KV bucket (at-least-once), the read model in memory.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import {
  type Binarize,
  emit,
  type EventEnvelope,
  type EventMetadata,
  jsonBinarize,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { isProjectionError, Projection, type ProjectionError } from "../projection/mod.ts";
import { NatsOffsetStore } from "../adapters/nats/mod.ts";
import { protobufBank, runLoad } from "./projection_fixtures.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let eventLog: NatsEventLog;
let offsetStore: NatsOffsetStore;

before(async () => {
  server = await startNatsServer();
  nc = await wsconnect({ servers: server.wsUrl });
  eventLog = new NatsEventLog(nc);
  await eventLog.setup();
  offsetStore = new NatsOffsetStore(nc);
  await offsetStore.setup();
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

const binarize = jsonBinarize<number, number>();

test("account balances from a NATS event log match the entities after a load", async () => {
  const bank = protobufBank(uniqueTypeName("account"));
  const balances = new Map<string, number>();
  const projection = new Projection(`balances-${bank.entity.typeName}`, {
    typeName: bank.entity,
    eventLog,
    binarize: bank.binarize,
    offsetStore,
    batchSize: 50,
    handleEvent: ({ id, event }) => {
      balances.set(id, (balances.get(id) ?? 0) + bank.change(event));
    },
  });
  await projection.run();
  const load = await runLoad(bank, eventLog, { accounts: 10, commandsPerAccount: 30 });
  await within(projection.whenCaughtUp(), 30_000, "whenCaughtUp");
  assert.deepEqual(balances, load.balances);
  const offset = projection.state().offset!;
  assert.ok(offset > 0);
  assert.equal(await offsetStore.load(projection.name), offset);
  // The offset is a plain decimal under the projection's name in the bucket.
  const kv = await new Kvm(nc).open("eventsourced_projection_offsets");
  assert.equal((await kv.get(projection.name))?.string(), String(offset));
  await projection.stop();
});

test("a projection on a new connection resumes after the offset stored in the bucket", async () => {
  const typeName = uniqueTypeName();
  const seen: number[] = [];
  const make = (store: NatsOffsetStore) =>
    new Projection("nats-resume", {
      typeName,
      eventLog,
      binarize,
      offsetStore: store,
      handleEvent: ({ event }) => void seen.push(event),
    });
  await eventLog.persist(typeName, "a", null, [1, 2].map((v) => binarize.eventToBytes(v)));
  const first = make(offsetStore);
  await first.run();
  await first.whenCaughtUp();
  await first.stop();

  await eventLog.persist(typeName, "a", 2, [binarize.eventToBytes(3)]);
  const otherNc = await wsconnect({ servers: server.wsUrl });
  try {
    const second = make(new NatsOffsetStore(otherNc));
    const state = await second.run();
    const positions = (await collect(eventLog.eventsByType(typeName, 0))).map((e) => e.position);
    assert.equal(state.offset, positions[1]);
    await second.whenCaughtUp();
    assert.deepEqual(seen, [1, 2, 3]);
    await second.stop();
  } finally {
    await otherNc.close();
  }
});

test("of two runners of one name on different connections, the later commit stops with a conflict", async () => {
  const typeName = uniqueTypeName();
  const otherNc = await wsconnect({ servers: server.wsUrl });
  try {
    const make = (store: NatsOffsetStore, errors: ProjectionError[]) =>
      new Projection("nats-twice", {
        typeName,
        eventLog,
        binarize,
        offsetStore: store,
        errorStrategy: { type: "stop" },
        onError: (error) => void errors.push(error),
        handleEvent: () => {},
      });
    const firstErrors: ProjectionError[] = [];
    const secondErrors: ProjectionError[] = [];
    const first = make(offsetStore, firstErrors);
    const second = make(new NatsOffsetStore(otherNc), secondErrors);
    await eventLog.persist(typeName, "a", null, [binarize.eventToBytes(1)]);
    await first.run();
    await first.whenCaughtUp();
    // Within one connection the name is taken …
    const local = await make(offsetStore, []).run().catch((e) => e);
    assert.ok(isProjectionError(local) && local.reason === "locked");
    // … across connections both start, and the offset's revision decides.
    await second.run();
    await eventLog.persist(typeName, "a", 1, [binarize.eventToBytes(2)]);
    const loser = await within(
      Promise.race([
        first.whenStopped().then(() => ({ projection: first, errors: firstErrors })),
        second.whenStopped().then(() => ({ projection: second, errors: secondErrors })),
      ]),
      10_000,
      "one runner to stop",
    );
    const stopped = loser.projection.state();
    const winner = loser.projection === first ? second : first;
    assert.equal(stopped.running, false);
    assert.equal(winner.state().running, true);
    assert.equal(stopped.lastError?.reason, "offset-conflict");
    assert.ok(loser.errors.some((e) => e.reason === "offset-conflict"));
    const [, last] = await collect(eventLog.eventsByType(typeName, 0));
    assert.equal(await offsetStore.load("nats-twice"), last!.position);
    await first.stop();
    await second.stop();
  } finally {
    await otherNc.close();
  }
});

test("a projection over NATS sees each event's version, writtenAt and metadata in its envelope, old events as version 1 with {}", async () => {
  const typeName = uniqueTypeName("meta");
  // Version 2 writes { by }, version 1 wrote a bare number.
  const v2: Binarize<{ by: number }, number> = {
    eventVersion: 2,
    eventToBytes: (event) => new TextEncoder().encode(JSON.stringify(event)),
    eventFromBytes: (bytes, version = 2) => {
      const value = JSON.parse(new TextDecoder().decode(bytes));
      return version === 1 ? { by: value } : value;
    },
    stateToBytes: (state) => new TextEncoder().encode(JSON.stringify(state)),
    stateFromBytes: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
  };
  const before = Date.now();
  await eventLog.persist(typeName, "a", null, [binarize.eventToBytes(5)]);
  const entity = {
    typeName,
    initialState: 0,
    handleEvent: (state: number, event: { by: number }) => state + event.by,
  };
  const ref = await spawn(entity, "a", { eventLog, binarize: v2 });
  const metadata: EventMetadata = {
    commandId: "cmd 1",
    correlationId: "transfer-7",
    causationId: "ünïcödé",
    headers: { user: " ada ", "trace-parent": "00-1-2-01" },
  };
  await ref.handleCommand({ handleCommand: () => emit([{ by: 1 }, { by: 2 }]) }, { metadata });
  await ref.handleCommand({ handleCommand: () => emit({ by: 3 }) });
  await ref.stop();
  const after = Date.now();
  const seen: EventEnvelope<{ by: number }>[] = [];
  const projection = new Projection(`meta-${typeName}`, {
    typeName,
    eventLog,
    binarize: v2,
    offsetStore,
    handleEvent: (envelope) => void seen.push(envelope),
  });
  await projection.run();
  await within(projection.whenCaughtUp(), 30_000, "whenCaughtUp");
  await projection.stop();
  assert.deepEqual(
    seen.map((e) => [e.seqNo, e.event.by, e.version, { ...e.metadata }]),
    [
      [1, 5, 1, {}],
      [2, 1, 2, metadata],
      [3, 2, 2, metadata],
      [4, 3, 2, {}],
    ],
  );
  for (const [i, envelope] of seen.entries()) {
    assert.ok(envelope.writtenAt >= before - 1 && envelope.writtenAt <= after + 1);
    if (i > 0) assert.ok(envelope.writtenAt >= seen[i - 1]!.writtenAt);
  }
  // The two events of one command share one message, so one stored time.
  assert.equal(seen[1]!.writtenAt, seen[2]!.writtenAt);
});
