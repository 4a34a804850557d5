// Crypto-shredding on the memory stores: the scenarios, and what only needs one backend to
// show: moved and altered ciphertexts, a failing key store, the master key, the cache, the
// protobuf codec, batched replay, bad input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  EventReader,
  type EventSourced,
  isDecodeError,
  jsonBinarize,
  MemoryEventLog,
  MemorySnapshotStore,
  spawn,
} from "../mod.ts";
import { collect, uniqueTypeName } from "../testing/mod.ts";
import { takeBatches } from "../src/_event_batches.ts";
import { MemoryOffsetStore } from "../projection/mod.ts";
import { protobufBinarize } from "../protobuf/mod.ts";
import {
  cryptoShredding,
  FORGOTTEN,
  type Forgotten,
  FORGOTTEN_EVENT,
  isForgotten,
  type KeyStore,
  MemoryKeyStore,
  shreddingBinarize,
} from "../shredding/mod.ts";
import {
  type CounterEvent,
  CounterEventSchema,
  type CounterState,
  CounterStateSchema,
} from "../examples/proto/gen/counter_pb.ts";
import {
  type Customer,
  customerEntity,
  type CustomerEvent,
  emitting,
  getState,
  personalFieldsScenario,
  storedEventsHold,
  wholeEventsScenario,
} from "./_shredding_scenario.ts";

const memory = () => ({
  eventLog: new MemoryEventLog(),
  snapshotStore: new MemorySnapshotStore(),
  keyStore: new MemoryKeyStore(),
  offsetStore: new MemoryOffsetStore(),
});

const customerBinarize = shreddingBinarize(jsonBinarize<CustomerEvent, Customer>(), {
  events: ["name", "email"],
  states: ["name", "email"],
});
const registered = (name: string): CustomerEvent => ({
  type: "registered",
  name,
  email: `${name}@mail`,
  plan: "free",
});

test("personal fields read as forgotten in replay, snapshot, reader and projection; the rest intact", async () => {
  await personalFieldsScenario(memory());
});

test("whole events read as FORGOTTEN_EVENT and a whole state as forgottenState", async () => {
  await wholeEventsScenario(memory());
});

test("a ciphertext copied to another entity reads as forgotten there, never as its data", async () => {
  const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
  const inner = new MemoryEventLog();
  const log = shredding.eventLog(inner);
  await log.persist("customer", "a", null, [customerBinarize.eventToBytes(registered("ann"))]);
  await log.persist("customer", "b", null, [customerBinarize.eventToBytes(registered("ben"))]);
  const [stolen] = await collect(inner.eventsById("customer", "a", 1));
  await inner.persist("customer", "b", 1, [stolen!.bytes]);
  const events = await collect(log.eventsById("customer", "b", 1));
  const decoded = events.map((e) => customerBinarize.eventFromBytes(e.bytes, e.version));
  assert.deepEqual(decoded, [
    registered("ben"),
    { type: "registered", plan: "free", name: FORGOTTEN, email: FORGOTTEN },
  ]);
});

test("a ciphertext altered, or moved under the same key, fails with an error, not a misread", async () => {
  // A key store that gives every entity the same key, to get past the key id check.
  const shared = new MemoryKeyStore();
  const sameKey: KeyStore = {
    get: (_t, _id, o) => shared.get("all", "all", o),
    create: (_t, _id, key, o) => shared.create("all", "all", key, o),
    delete: (_t, _id, o) => shared.delete("all", "all", o),
  };
  const shredding = cryptoShredding({ keyStore: sameKey });
  const inner = new MemoryEventLog();
  const log = shredding.eventLog(inner);
  await log.persist("customer", "a", null, [customerBinarize.eventToBytes(registered("ann"))]);
  const [stored] = await collect(inner.eventsById("customer", "a", 1));
  await inner.persist("customer", "b", null, [stored!.bytes]);
  await assert.rejects(collect(log.eventsById("customer", "b", 1)), /does not decrypt.*altered/);
  const altered = stored!.bytes.slice();
  altered[altered.length - 1]! ^= 1;
  await inner.persist("customer", "c", null, [altered]);
  await assert.rejects(collect(log.eventsById("customer", "c", 1)), /does not decrypt/);
  assert.equal((await collect(log.eventsById("customer", "a", 1))).length, 1);
});

test("a failing key store fails the read and the recovery, never reads as forgotten", async () => {
  const keys = new MemoryKeyStore();
  let failing = false;
  const flaky: KeyStore = {
    get: (t, id, o) => failing ? Promise.reject(new Error("connection lost")) : keys.get(t, id, o),
    create: (t, id, k, o) => keys.create(t, id, k, o),
    delete: (t, id, o) => keys.delete(t, id, o),
  };
  const typeName = uniqueTypeName("customer");
  const shredding = cryptoShredding({ keyStore: flaky, keyCacheMs: 0 });
  const eventLog = shredding.eventLog(new MemoryEventLog());
  const snapshotStore = shredding.snapshotStore(new MemorySnapshotStore());
  const entity = customerEntity(typeName);
  const options = { eventLog, binarize: customerBinarize, snapshotStore, snapshotAfter: 1 };
  const ref = await spawn(entity, "a", options);
  await ref.handleCommand(emitting(registered("ann")));
  await ref.stop();
  failing = true;
  await assert.rejects(collect(eventLog.eventsById(typeName, "a", 1)), /connection lost/);
  await assert.rejects(snapshotStore.load(typeName, "a"), /connection lost/);
  await assert.rejects(spawn(entity, "a", options), /connection lost/);
  await assert.rejects(
    eventLog.persist(typeName, "b", null, [customerBinarize.eventToBytes(registered("ben"))]),
    /connection lost/,
  );
  assert.equal(await eventLog.lastSeqNo(typeName, "b"), null, "nothing written without a key");
  failing = false;
  const again = await spawn(entity, "a", options);
  assert.deepEqual(await again.handleCommand(getState), {
    ok: true,
    value: { name: "ann", email: "ann@mail", plan: "free" },
  });
  await again.stop();
});

test("a master key wraps the stored keys; without it, or with another, reads fail clearly", async () => {
  const keyStore = new MemoryKeyStore();
  const masterKey = crypto.getRandomValues(new Uint8Array(32));
  const inner = new MemoryEventLog();
  const wrapped = cryptoShredding({ keyStore, masterKey });
  await wrapped.eventLog(inner).persist("customer", "a", null, [
    customerBinarize.eventToBytes(registered("ann")),
  ]);
  const stored = await keyStore.get("customer", "a");
  assert.equal(stored?.key.length, 40, "an AES-KW wrapped 256-bit key");
  const [event] = await collect(wrapped.eventLog(inner).eventsById("customer", "a", 1));
  assert.deepEqual(customerBinarize.eventFromBytes(event!.bytes), registered("ann"));

  const bare = cryptoShredding({ keyStore });
  await assert.rejects(
    collect(bare.eventLog(inner).eventsById("customer", "a", 1)),
    /wrapped by a master key, and no `masterKey` is given/,
  );
  const other = cryptoShredding({ keyStore, masterKey: new Uint8Array(32) });
  await assert.rejects(
    collect(other.eventLog(inner).eventsById("customer", "a", 1)),
    /master key does not unwrap/,
  );
  const raw = cryptoShredding({ keyStore: new MemoryKeyStore() });
  const rawLog = new MemoryEventLog();
  await raw.eventLog(rawLog).persist("customer", "a", null, [
    customerBinarize.eventToBytes(registered("ann")),
  ]);
  const masterKeyCrypto = await crypto.subtle.importKey("raw", masterKey, "AES-KW", false, [
    "wrapKey",
    "unwrapKey",
  ]);
  const rewrapped = cryptoShredding({ keyStore, masterKey: masterKeyCrypto });
  const [again] = await collect(rewrapped.eventLog(inner).eventsById("customer", "a", 1));
  assert.deepEqual(customerBinarize.eventFromBytes(again!.bytes), registered("ann"));
});

test("reading through a log without the shredding layer fails with an error saying so", async () => {
  const typeName = uniqueTypeName("customer");
  const inner = new MemoryEventLog();
  const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
  await shredding.eventLog(inner).persist(typeName, "a", null, [
    customerBinarize.eventToBytes(registered("ann")),
  ]);
  const reader = new EventReader(customerEntity(typeName), {
    eventLog: inner,
    binarize: customerBinarize,
  });
  const error = await collect(reader.eventsById("a")).catch((e) => e);
  assert.ok(isDecodeError(error));
  assert.match(String(error.cause ?? error.message), /still encrypted/);
});

test("a forget in another process is seen at once with keyCacheMs 0, after the TTL otherwise", async () => {
  const keyStore = new MemoryKeyStore();
  const inner = new MemoryEventLog();
  const writer = cryptoShredding({ keyStore });
  await writer.eventLog(inner).persist("customer", "a", null, [
    customerBinarize.eventToBytes(registered("ann")),
  ]);
  const uncached = cryptoShredding({ keyStore, keyCacheMs: 0 });
  const cached = cryptoShredding({ keyStore, keyCacheMs: 60_000 });
  const read = async (shredding: typeof writer) => {
    const events = await collect(shredding.eventLog(inner).eventsById("customer", "a", 1));
    return customerBinarize.eventFromBytes(events[0]!.bytes);
  };
  assert.deepEqual(await read(cached), registered("ann"));
  assert.equal(await cryptoShredding({ keyStore }).forget("customer", "a"), true);
  assert.ok(isForgotten((await read(uncached) as { email: string }).email));
  assert.deepEqual(await read(cached), registered("ann"), "cached for up to keyCacheMs");
  assert.ok(isForgotten((await read(writer) as { email: string }).email) === false);
  assert.equal(await writer.forget("customer", "a"), false, "already gone from the store");
  assert.ok(isForgotten((await read(writer) as { email: string }).email), "its own forget");
});

test("a write after another process's forget uses a new key, even with the old one cached", async () => {
  const keyStore = new MemoryKeyStore();
  const inner = new MemoryEventLog();
  const writer = cryptoShredding({ keyStore, keyCacheMs: 60_000 });
  const log = writer.eventLog(inner);
  await log.persist("customer", "a", null, [customerBinarize.eventToBytes(registered("ann"))]);
  assert.equal(await cryptoShredding({ keyStore }).forget("customer", "a"), true);
  await log.persist("customer", "a", 1, [customerBinarize.eventToBytes(registered("bea"))]);
  const reader = cryptoShredding({ keyStore, keyCacheMs: 0 });
  const events = await collect(reader.eventLog(inner).eventsById("customer", "a", 1));
  const [old, fresh] = events.map((event) => customerBinarize.eventFromBytes(event.bytes));
  assert.ok(isForgotten((old as { email: string }).email), "the event of before the forget");
  assert.deepEqual(fresh, registered("bea"), "the event written after it is readable");
});

test("a whole state forgotten without forgottenState fails the load, naming the entity", async () => {
  const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
  const store = shredding.snapshotStore(new MemorySnapshotStore());
  const binarize = shreddingBinarize(jsonBinarize<unknown, { secret: string }>(), {
    events: "none",
    states: "whole",
  });
  await store.save("vault", "v-1", 3, binarize.stateToBytes({ secret: "s3cr3t" }));
  const snapshot = await store.load("vault", "v-1");
  assert.deepEqual(binarize.stateFromBytes(snapshot!.bytes), { secret: "s3cr3t" });
  await shredding.forget("vault", "v-1");
  await assert.rejects(store.load("vault", "v-1"), /snapshot of vault "v-1".*forgottenState/);
});

test("the protobuf codec works in whole mode", async () => {
  const inner = protobufBinarize(CounterEventSchema, CounterStateSchema, { eventOneof: "event" });
  const typeName = uniqueTypeName("pbcounter");
  const counter: EventSourced<CounterState, CounterEvent | Forgotten> = {
    typeName,
    initialState: create(CounterStateSchema),
    handleEvent: (state, event) => {
      if (isForgotten(event)) return create(CounterStateSchema, { value: state.value + 1000 });
      if (event.event.case !== "increased") return state;
      return create(CounterStateSchema, { value: state.value + event.event.value.by });
    },
  };
  const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
  const eventLog = shredding.eventLog(new MemoryEventLog());
  const binarize = shredding.binarize(inner, { events: "whole", states: "none" });
  const increased = (by: number) =>
    create(CounterEventSchema, { event: { case: "increased", value: { by } } });
  for (const id of ["a", "b"]) {
    const ref = await spawn(counter, id, { eventLog, binarize });
    await ref.handleCommand(emitting(increased(2)));
    await ref.handleCommand(emitting(increased(3)));
    await ref.stop();
  }
  await shredding.forget(typeName, "a");
  const values: number[] = [];
  for (const id of ["a", "b"]) {
    const ref = await spawn(counter, id, { eventLog, binarize });
    const state = await ref.handleCommand(getState);
    assert.ok(state.ok);
    values.push((state.value as CounterState).value);
    await ref.stop();
  }
  assert.deepEqual(values, [2000, 5]);
});

test("a 10 000-event replay decrypts in the log's batches with one key lookup", async () => {
  const keys = new MemoryKeyStore();
  let gets = 0;
  const counting: KeyStore = {
    get: (t, id, o) => (gets++, keys.get(t, id, o)),
    create: (t, id, k, o) => keys.create(t, id, k, o),
    delete: (t, id, o) => keys.delete(t, id, o),
  };
  const typeName = uniqueTypeName("customer");
  const shredding = cryptoShredding({ keyStore: counting });
  const eventLog = shredding.eventLog(new MemoryEventLog());
  const upgraded = customerBinarize.eventToBytes({ type: "upgraded", plan: "pro" });
  const first = customerBinarize.eventToBytes(registered("ann"));
  let last: number | null = null;
  for (let i = 0; i < 10; i++) {
    const events = Array.from({ length: 1000 }, (_, j) => i === 0 && j === 0 ? first : upgraded);
    last = await eventLog.persist(typeName, "a", last, events);
  }
  const ref = await spawn(customerEntity(typeName), "a", { eventLog, binarize: customerBinarize });
  assert.deepEqual(await ref.handleCommand(getState), {
    ok: true,
    value: { name: "ann", email: "ann@mail", plan: "pro" },
  });
  await ref.stop();
  assert.equal(gets, 1, "the persist's lookup cached the key for the replay");
  const pages = takeBatches(eventLog.eventsById(typeName, "a", 1));
  assert.ok(pages !== undefined, "the shredding log's streams keep the log's batches");
  const page = await pages.next();
  assert.ok(page !== null && page.length > 1, "a batch of several events");
  await pages.cancel(new Error("enough"));
});

test("events without personal data need no key and stay readable after a forget", async () => {
  const keyStore = new MemoryKeyStore();
  const shredding = cryptoShredding({ keyStore });
  const inner = new MemoryEventLog();
  const log = shredding.eventLog(inner);
  await log.persist("customer", "a", null, [
    customerBinarize.eventToBytes({ type: "upgraded", plan: "pro" }),
    jsonBinarize().eventToBytes({ plain: true }),
  ]);
  assert.equal(await keyStore.get("customer", "a"), null);
  assert.ok(await storedEventsHold(inner, "customer", "a", "pro"));
  const events = await collect(log.eventsById("customer", "a", 1));
  assert.deepEqual(customerBinarize.eventFromBytes(events[0]!.bytes), {
    type: "upgraded",
    plan: "pro",
  });
  assert.deepEqual(jsonBinarize().eventFromBytes(events[1]!.bytes), { plain: true });
});

test("replacements per field, and upcasters that see the event without its personal fields", () => {
  const binarize = shreddingBinarize(
    jsonBinarize<{ v: number; age: number; email: string }, null>({
      version: 2,
      upcast: { 1: (old: { age?: unknown }) => ({ ...old, v: 2 }) },
    }),
    { events: { age: -1, email: "" }, states: "none" },
  );
  const bytes = binarize.eventToBytes({ v: 1, age: 40, email: "x@mail" });
  assert.deepEqual(binarize.eventFromBytes(bytes, 1), { v: 2, age: 40, email: "x@mail" });
  // A forgotten envelope, as the log layer leaves it: state bits 3.
  const forgotten = bytes.slice(
    0,
    bytes.length - JSON.stringify({ age: 40, email: "x@mail" }).length,
  );
  forgotten[5] = (forgotten[5]! & ~0b11) | 3;
  assert.deepEqual(binarize.eventFromBytes(forgotten, 2), { v: 1, age: -1, email: "" });
});

test("bad options and arguments fail clearly before any write", async () => {
  const inner = jsonBinarize<Record<string, unknown>, null>();
  assert.throws(
    () => shreddingBinarize(inner, { events: "none", states: "none" }),
    /nothing is personal/,
  );
  assert.throws(() => shreddingBinarize(inner, { events: [], states: "none" }), /names no field/);
  assert.throws(
    () => shreddingBinarize(inner, { events: [""], states: "none" }),
    /not a field name/,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => shreddingBinarize(inner, { events: "all" as any, states: "none" }),
    /`events` must be "whole", "none"/,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => shreddingBinarize(inner, { events: ["a"] } as any),
    /`states` must be/,
  );
  assert.throws(
    () => shreddingBinarize(inner, { events: ["a"], states: "none", forgottenState: null }),
    /forgottenState/,
  );
  const fields = shreddingBinarize(inner, { events: ["a"], states: "none" });
  assert.throws(() => fields.eventToBytes([1] as never), /must be an object.*an array/);
  assert.throws(() => fields.eventToBytes({ a: NaN }), /personal field "a" is not JSON/);
  assert.deepEqual(fields.eventFromBytes(inner.eventToBytes({ old: 1 })), { old: 1 }, "unwrapped");

  assert.throws(() => cryptoShredding({} as never), /`keyStore` must be a KeyStore/);
  assert.throws(
    () => cryptoShredding({ keyStore: new MemoryKeyStore(), keyCacheMs: -1 }),
    /keyCacheMs/,
  );
  assert.throws(
    () => cryptoShredding({ keyStore: new MemoryKeyStore(), masterKey: new Uint8Array(7) }),
    /16, 24 or 32 bytes, got 7/,
  );
  assert.throws(
    () => cryptoShredding({ keyStore: new MemoryKeyStore(), keyCache: 1 } as never),
    /unknown option "keyCache"/,
  );
  const keyStore = new MemoryKeyStore();
  const shredding = cryptoShredding({ keyStore });
  assert.throws(() => shredding.eventLog({} as never), /lacks persist/);
  const log = shredding.eventLog(new MemoryEventLog());
  const event = customerBinarize.eventToBytes(registered("ann"));
  await assert.rejects(log.persist("bad name!", "a", null, [event]), /bad name!/);
  await assert.rejects(log.persist("customer", "a", null, "x" as never), TypeError);
  await assert.rejects(
    log.persist("customer", "a", null, [event], { signal: AbortSignal.abort(new Error("stop")) }),
    /stop/,
  );
  await assert.rejects(shredding.forget("customer", 7 as never), TypeError);
  assert.equal(await keyStore.get("customer", "a"), null, "no key was created");
});

test("FORGOTTEN survives a JSON round trip; FORGOTTEN_EVENT is frozen", () => {
  assert.ok(isForgotten(JSON.parse(JSON.stringify({ f: FORGOTTEN })).f));
  assert.ok(Object.isFrozen(FORGOTTEN_EVENT));
  assert.equal(String(FORGOTTEN_EVENT), "[forgotten]");
});

test("a live read decrypts events written later, and its signal ends it", async () => {
  const shredding = cryptoShredding({ keyStore: new MemoryKeyStore() });
  const log = shredding.eventLog(new MemoryEventLog());
  const controller = new AbortController();
  const reader = log.eventsByType("customer", 1, { live: true, signal: controller.signal })
    .getReader();
  const first = reader.read();
  await log.persist("customer", "a", null, [customerBinarize.eventToBytes(registered("ann"))]);
  const { value } = await first;
  assert.deepEqual(customerBinarize.eventFromBytes(value!.bytes), registered("ann"));
  const next = reader.read();
  controller.abort(new Error("done"));
  await assert.rejects(next, /done/);
});
