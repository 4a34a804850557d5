// The crypto-shredding scenarios every backend runs: customers with personal fields (and a
// snapshot holding them), patients whose events are personal as a whole, forgotten and read
// back by the entity, an EventReader and a Projection, with the other data intact.

import assert from "node:assert/strict";
import {
  emit,
  type EventLog,
  EventReader,
  type EventSourced,
  jsonBinarize,
  reply,
  type SnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { type OffsetStore, Projection } from "../projection/mod.ts";
import {
  cryptoShredding,
  FORGOTTEN,
  type Forgotten,
  FORGOTTEN_EVENT,
  isForgotten,
  type KeyStore,
} from "../shredding/mod.ts";

/** The stores a scenario runs on: the backend's own, without shredding. */
export interface ShreddingBackend<Tx = unknown> {
  readonly eventLog: EventLog;
  readonly snapshotStore: SnapshotStore;
  readonly keyStore: KeyStore;
  readonly offsetStore: OffsetStore<Tx>;
}

export type CustomerEvent =
  | { type: "registered"; name: string; email: string; plan: string }
  | { type: "upgraded"; plan: string };
export type Customer = { name: string; email: string; plan: string };

export function customerEntity(typeName: string): EventSourced<Customer, CustomerEvent> {
  return {
    typeName,
    initialState: { name: "", email: "", plan: "free" },
    handleEvent: (state, event) =>
      event.type === "registered"
        ? { name: event.name, email: event.email, plan: event.plan }
        : { ...state, plan: event.plan },
  };
}

export const getState = { handleCommand: <S>(_id: string, state: S) => reply(state) };

export function emitting<E>(event: E) {
  return { handleCommand: () => emit(event) };
}

const decoder = new TextDecoder();

/** Whether any stored event of the entity holds `text` in its bytes. */
export async function storedEventsHold(log: EventLog, typeName: string, id: string, text: string) {
  const events = await collect(log.eventsById(typeName, id, 1));
  assert.ok(events.length > 0, "the entity has stored events");
  return events.some((e) => decoder.decode(e.bytes).includes(text));
}

/** Personal fields: forgotten in replay, snapshot, reader and projection; the rest intact. */
export async function personalFieldsScenario<Tx>(
  backend: ShreddingBackend<Tx>,
): Promise<void> {
  const typeName = uniqueTypeName("customer");
  const shredding = cryptoShredding({ keyStore: backend.keyStore });
  const eventLog = shredding.eventLog(backend.eventLog);
  const snapshotStore = shredding.snapshotStore(backend.snapshotStore);
  const binarize = shredding.binarize(jsonBinarize<CustomerEvent, Customer>(), {
    events: ["name", "email"],
    states: ["name", "email"],
  });
  const entity = customerEntity(typeName);
  const withSnapshots = { eventLog, binarize, snapshotStore, snapshotAfter: 2 };
  for (const name of ["alice", "bob"]) {
    const ref = await spawn(entity, name, withSnapshots);
    await ref.handleCommand(
      emitting({ type: "registered", name: `${name}-name`, email: `${name}@mail`, plan: "free" }),
    );
    await ref.handleCommand(emitting<CustomerEvent>({ type: "upgraded", plan: "pro" }));
    await ref.stop();
  }
  assert.equal((await backend.snapshotStore.load(typeName, "alice"))?.seqNo, 2);
  const rawSnapshot = decoder.decode((await backend.snapshotStore.load(typeName, "alice"))!.bytes);
  assert.ok(!rawSnapshot.includes("alice@mail") && !rawSnapshot.includes("alice-name"));
  assert.ok(rawSnapshot.includes("pro"), "the public part of the state is in clear");
  assert.ok(!(await storedEventsHold(backend.eventLog, typeName, "alice", "alice@mail")));
  assert.ok(!(await storedEventsHold(backend.eventLog, typeName, "alice", "alice-name")));

  assert.equal(await shredding.forget(typeName, "alice"), true);
  const forgotten = { name: FORGOTTEN, email: FORGOTTEN, plan: "pro" };
  // Recovered from the snapshot, and from the events alone.
  for (const options of [withSnapshots, { eventLog, binarize }]) {
    const ref = await spawn(entity, "alice", options);
    assert.deepEqual(await ref.handleCommand(getState), { ok: true, value: forgotten });
    await ref.stop();
    const bob = await spawn(entity, "bob", options);
    assert.deepEqual(await bob.handleCommand(getState), {
      ok: true,
      value: { name: "bob-name", email: "bob@mail", plan: "pro" },
    });
    await bob.stop();
  }

  const reader = new EventReader(entity, { eventLog, binarize });
  const byType = await collect(reader.eventsByType(1));
  assert.deepEqual(byType.map((e) => [e.id, e.seqNo, e.event]), [
    ["alice", 1, { type: "registered", plan: "free", name: FORGOTTEN, email: FORGOTTEN }],
    ["alice", 2, { type: "upgraded", plan: "pro" }],
    ["bob", 1, { type: "registered", plan: "free", name: "bob-name", email: "bob@mail" }],
    ["bob", 2, { type: "upgraded", plan: "pro" }],
  ]);

  // Writing after the forget: a new key; the old event stays forgotten, the new one reads.
  const ref = await spawn(entity, "alice", { eventLog, binarize });
  await ref.handleCommand(
    emitting({ type: "registered", name: "alice-2", email: "alice2@mail", plan: "team" }),
  );
  await ref.stop();
  const byId = await collect(reader.eventsById("alice"));
  assert.deepEqual(byId.map((e) => isForgotten((e.event as { email?: unknown }).email)), [
    true,
    false,
    false,
  ]);
  assert.deepEqual(byId[2]!.event, {
    type: "registered",
    plan: "team",
    name: "alice-2",
    email: "alice2@mail",
  });

  // A projection sees the forgotten fields too.
  const seen: string[] = [];
  const projection = new Projection(`emails-${typeName}`, {
    typeName,
    eventLog,
    binarize,
    offsetStore: backend.offsetStore,
    batchSize: 10,
    handleBatch: (envelopes) => {
      for (const { id, event } of envelopes) {
        if (event.type === "registered") seen.push(`${id}:${event.email}`);
      }
    },
  });
  await projection.run();
  await within(projection.whenCaughtUp(), 20_000, "the projection catching up");
  await projection.stop();
  assert.deepEqual(seen, [`alice:${FORGOTTEN}`, "bob:bob@mail", "alice:alice2@mail"]);
}

export type PatientEvent = { note: string };

/** Whole events: forgotten events read as FORGOTTEN_EVENT; the state's forgottenState. */
export async function wholeEventsScenario<Tx>(
  backend: ShreddingBackend<Tx>,
): Promise<void> {
  const typeName = uniqueTypeName("patient");
  const shredding = cryptoShredding({ keyStore: backend.keyStore, keyCacheMs: 0 });
  const eventLog = shredding.eventLog(backend.eventLog);
  const snapshotStore = shredding.snapshotStore(backend.snapshotStore);
  const binarize = shredding.binarize(jsonBinarize<PatientEvent, string[]>(), {
    events: "whole",
    states: "whole",
    forgottenState: ["(forgotten)"],
  });
  const entity: EventSourced<string[], PatientEvent | Forgotten> = {
    typeName,
    initialState: [],
    handleEvent: (notes, event) => [...notes, isForgotten(event) ? "?" : event.note],
  };
  const options = { eventLog, binarize, snapshotStore, snapshotAfter: 2 };
  for (const id of ["p1", "p2"]) {
    const ref = await spawn(entity, id, options);
    await ref.handleCommand(emitting({ note: `${id}-secret-a` }));
    await ref.handleCommand(emitting({ note: `${id}-secret-b` }));
    await ref.handleCommand(emitting({ note: `${id}-secret-c` }));
    await ref.stop();
  }
  assert.ok(!(await storedEventsHold(backend.eventLog, typeName, "p1", "secret")));
  assert.equal((await backend.snapshotStore.load(typeName, "p1"))?.seqNo, 2);

  await shredding.forget(typeName, "p1");
  let ref = await spawn(entity, "p1", options);
  assert.deepEqual(await ref.handleCommand(getState), { ok: true, value: ["(forgotten)", "?"] });
  await ref.stop();
  ref = await spawn(entity, "p1", { eventLog, binarize });
  assert.deepEqual(await ref.handleCommand(getState), { ok: true, value: ["?", "?", "?"] });
  await ref.handleCommand(emitting({ note: "p1-new" }));
  await ref.stop();
  ref = await spawn(entity, "p2", options);
  assert.deepEqual(await ref.handleCommand(getState), {
    ok: true,
    value: ["p2-secret-a", "p2-secret-b", "p2-secret-c"],
  });
  await ref.stop();

  const reader = new EventReader(entity, { eventLog, binarize });
  const events = (await collect(reader.eventsByType(1))).map((e) => [e.id, e.event]);
  assert.deepEqual(events, [
    ["p1", FORGOTTEN_EVENT],
    ["p1", FORGOTTEN_EVENT],
    ["p1", FORGOTTEN_EVENT],
    ["p2", { note: "p2-secret-a" }],
    ["p2", { note: "p2-secret-b" }],
    ["p2", { note: "p2-secret-c" }],
    ["p1", { note: "p1-new" }],
  ]);
}
