import { test } from "node:test";
import assert from "node:assert/strict";
import {
  emit,
  EventReader,
  isDecodeError,
  isHandleCommandError,
  jsonBinarize,
  MemoryEventLog,
  reply,
  spawn,
} from "../mod.ts";
import { collect } from "../testing/mod.ts";

test("jsonBinarize round-trips events and states, ASCII and not", () => {
  const binarize = jsonBinarize<unknown, unknown>();
  const values = [
    { type: "increased", by: 1 },
    { name: "Zoë 日本 😀", nested: [1, null, true, "x".repeat(1000)] },
    "plain",
    0,
    [],
  ];
  for (const value of values) {
    assert.deepEqual(binarize.eventFromBytes(binarize.eventToBytes(value)), value);
    assert.deepEqual(binarize.stateFromBytes(binarize.stateToBytes(value)), value);
  }
  assert.deepEqual(
    [...binarize.eventToBytes({ s: "é" })],
    [...new TextEncoder().encode('{"s":"é"}')],
    "non-ASCII text is UTF-8",
  );
});

test("jsonBinarize refuses values without a JSON form and bytes that are not UTF-8 JSON", () => {
  const binarize = jsonBinarize<unknown, unknown>();
  assert.throws(() => binarize.eventToBytes(undefined), /no JSON form/);
  assert.throws(() => binarize.eventToBytes(() => 1), /no JSON form/);
  assert.throws(() => binarize.eventToBytes(1n), TypeError);
  assert.throws(() => binarize.eventFromBytes(new Uint8Array([0xff, 0xfe])), TypeError);
  assert.throws(() => binarize.eventFromBytes(new TextEncoder().encode("{")), SyntaxError);
});

test("jsonBinarize refuses NaN and ±Infinity at encode time, naming the path", () => {
  const binarize = jsonBinarize<unknown, unknown>();
  assert.throws(() => binarize.eventToBytes(NaN), /Cannot encode NaN at \$ as JSON/);
  assert.throws(
    () => binarize.eventToBytes({ type: "paid", amount: Infinity }),
    /Cannot encode Infinity at \$\.amount/,
  );
  assert.throws(
    () => binarize.stateToBytes({ lines: [{ price: 1 }, { price: -Infinity }] }),
    /Cannot encode -Infinity at \$\.lines\[1\]\.price/,
  );
  assert.throws(() => binarize.eventToBytes([null, 0 / 0]), /NaN at \$\[1\]/);
  const withNulls = { a: null, b: "null", c: [null] };
  assert.deepEqual(binarize.eventFromBytes(binarize.eventToBytes(withNulls)), withNulls);
});

test("an event with a non-finite number fails the command with encode-failed, nothing written", async () => {
  const eventLog = new MemoryEventLog();
  const binarize = jsonBinarize<{ by: number }, number>();
  const entity = { typeName: "counter", initialState: 0, handleEvent: (s: number) => s };
  const ref = await spawn(entity, "a", { eventLog, binarize });
  const error = await ref.handleCommand({ handleCommand: () => emit({ by: NaN }) }).catch((e) => e);
  assert.ok(isHandleCommandError(error));
  assert.equal(error.reason, "encode-failed");
  assert.match(String(error.cause), /NaN at \$\.by/);
  assert.equal(await eventLog.lastSeqNo("counter", "a"), null);
  await ref.stop();
});

// Versions and upcasting: v1 events said { kind, amount }, v2 renamed kind to type, v3 added a
// currency.
const v1Event = new TextEncoder().encode('{"kind":"deposit","amount":500}');
const v2Event = new TextEncoder().encode('{"type":"deposit","amount":500}');
const v3Event = { type: "deposit", amount: 500, currency: "EUR" };

function versioned(calls: string[] = []) {
  return jsonBinarize<typeof v3Event, unknown>({
    version: 3,
    upcast: {
      1: ({ kind, ...rest }) => {
        calls.push("1→2");
        return { type: kind, ...rest };
      },
      2: (v2) => {
        calls.push("2→3");
        return { ...v2, currency: "EUR" };
      },
    },
  });
}

test("jsonBinarize without options is the one shared codec of version 1", () => {
  assert.equal(jsonBinarize(), jsonBinarize());
  assert.equal(jsonBinarize().eventVersion, undefined);
  const plain = jsonBinarize({});
  assert.notEqual(plain, jsonBinarize());
  assert.equal(plain.eventVersion, 1);
  assert.equal(plain.stateVersion, 1);
  assert.deepEqual(plain.eventFromBytes(plain.eventToBytes({ a: 1 }), 1), { a: 1 });
});

test("jsonBinarize upcasts an older event step by step, in order, and the current one not at all", () => {
  const calls: string[] = [];
  const binarize = versioned(calls);
  assert.equal(binarize.eventVersion, 3);
  assert.equal(binarize.stateVersion, 1);
  assert.deepEqual(binarize.eventFromBytes(v1Event, 1), v3Event);
  assert.deepEqual(calls, ["1→2", "2→3"]);
  calls.length = 0;
  assert.deepEqual(binarize.eventFromBytes(v2Event, 2), v3Event);
  assert.deepEqual(calls, ["2→3"]);
  calls.length = 0;
  const bytes = binarize.eventToBytes(v3Event);
  assert.deepEqual(binarize.eventFromBytes(bytes, 3), v3Event);
  assert.deepEqual(binarize.eventFromBytes(bytes), v3Event, "no version: the current one");
  assert.deepEqual(calls, []);
});

test("jsonBinarize refuses a version newer than its own, or one it has no upcaster for", () => {
  const binarize = versioned();
  assert.throws(
    () => binarize.eventFromBytes(v1Event, 4),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot decode event of version 4: this codec reads versions 1 to 3 (the event was written by newer code)",
  );
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(() => binarize.eventFromBytes(v1Event, bad), /expected an integer from 1 to 3/);
  }
  const onlyFromV2 = jsonBinarize({ version: 3, upcast: { 2: (v: object) => v } });
  assert.throws(
    () => onlyFromV2.eventFromBytes(v1Event, 1),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot upcast event from version 1 to 2: no upcast[1] is given, so this codec cannot read events of version 1",
  );
  assert.deepEqual(
    onlyFromV2.eventFromBytes(v2Event, 2),
    JSON.parse('{"type":"deposit","amount":500}'),
  );
  // Bytes are not even decoded for a version that cannot be read.
  assert.throws(() => onlyFromV2.eventFromBytes(new Uint8Array([0xff]), 1), RangeError);
});

test("an upcaster that throws is named with the step; its error is the cause", () => {
  const failure = new Error("no amount");
  const binarize = jsonBinarize({
    version: 2,
    upcast: {
      1: () => {
        throw failure;
      },
    },
  });
  assert.throws(
    () => binarize.eventFromBytes(v1Event, 1),
    (e: unknown) =>
      e instanceof Error && e.cause === failure &&
      e.message === "Cannot upcast event from version 1 to 2: upcast[1] threw: no amount",
  );
});

test("jsonBinarize upcasts states with stateUpcast, apart from events", () => {
  const binarize = jsonBinarize<unknown, { cents: number }>({
    stateVersion: 2,
    stateUpcast: { 1: (euros: number) => ({ cents: euros * 100 }) },
  });
  assert.equal(binarize.eventVersion, 1);
  assert.equal(binarize.stateVersion, 2);
  assert.deepEqual(binarize.stateFromBytes(new TextEncoder().encode("5"), 1), { cents: 500 });
  assert.deepEqual(binarize.stateFromBytes(binarize.stateToBytes({ cents: 1 })), { cents: 1 });
  assert.throws(
    () => binarize.stateFromBytes(new TextEncoder().encode("5"), 3),
    /state of version 3/,
  );
  assert.throws(
    () => binarize.eventFromBytes(new TextEncoder().encode("5"), 2),
    /event of version 2/,
  );
});

test("jsonBinarize checks its options when it is created", () => {
  const f = (v: unknown) => v;
  const cases: [unknown, RegExp][] = [
    [null, /Invalid jsonBinarize options null: expected an object/],
    [{ versions: 2 }, /Unknown jsonBinarize option "versions": known options are version, upcast/],
    [
      { version: 0 },
      /Invalid jsonBinarize option version 0: expected an integer from 1 to 2147483647/,
    ],
    [{ version: 1.5 }, /Invalid jsonBinarize option version 1.5/],
    [{ version: "2" }, /Invalid jsonBinarize option version "2"/],
    [{ version: 2 ** 31 }, /Invalid jsonBinarize option version 2147483648/],
    [{ stateVersion: -1 }, /Invalid jsonBinarize option stateVersion -1/],
    [
      { version: 2, upcast: [f] },
      /Invalid jsonBinarize option upcast \(an array\): expected an object/,
    ],
    [{ version: 2, upcast: f }, /Invalid jsonBinarize option upcast \(a function\)/],
    [
      { version: 3, upcast: { 3: f } },
      /option upcast key "3": expected an integer from 1 to 2 \(version − 1\)/,
    ],
    [{ version: 3, upcast: { 0: f } }, /option upcast key "0"/],
    [{ version: 3, upcast: { "01": f } }, /option upcast key "01"/],
    [{ version: 3, upcast: { x: f } }, /option upcast key "x"/],
    [
      { upcast: { 1: f } },
      /option upcast key "1": expected none, since version is 1 and no version is older/,
    ],
    [
      { version: 2, upcast: { 1: "f" } },
      /Invalid jsonBinarize option upcast\[1\] "f": expected a function/,
    ],
    [
      { stateVersion: 2, stateUpcast: { 1: null } },
      /option stateUpcast\[1\] null: expected a function/,
    ],
    [{ stateVersion: 2, upcast: { 1: f } }, /option upcast key "1": expected none/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => jsonBinarize(options as never), message, String(JSON.stringify(options)));
  }
});

test("jsonBinarize copies the upcasters: changing the options later changes nothing", () => {
  const upcast: Record<number, (value: number) => unknown> = { 1: (n) => n + 1 };
  const binarize = jsonBinarize({ version: 2, upcast });
  upcast[1] = () => "changed";
  assert.equal(binarize.eventFromBytes(new TextEncoder().encode("1"), 1), 2);
});

test("an entity and an EventReader read v1 events through the chain and refuse a v4 one", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("account", "a", null, [v1Event, v1Event]);
  await eventLog.persist("account", "a", 2, [v2Event], { version: 2 });
  const binarize = versioned();
  const account = {
    typeName: "account",
    initialState: 0,
    handleEvent: (state: number, event: typeof v3Event) => {
      assert.equal(event.currency, "EUR");
      return state + event.amount;
    },
  };
  const ref = await spawn(account, "a", { eventLog, binarize });
  assert.deepEqual(await ref.handleCommand({ handleCommand: (_id, s) => reply(s) }), {
    ok: true,
    value: 1500,
  });
  await ref.handleCommand({ handleCommand: () => emit(v3Event) });
  await ref.stop();
  const stored = await collect(eventLog.eventsById("account", "a", 1));
  assert.deepEqual(stored.map((e) => e.version), [1, 1, 2, 3], "the current version is stored");

  const reader = new EventReader<typeof v3Event>("account", { eventLog, binarize });
  const envelopes = await collect(reader.eventsById("a"));
  assert.deepEqual(envelopes.map((e) => e.event), [v3Event, v3Event, v3Event, v3Event]);
  assert.deepEqual(envelopes.map((e) => e.version), [1, 1, 2, 3]);

  await eventLog.persist("account", "a", 4, [v1Event], { version: 4 });
  const error = await collect(reader.eventsById("a")).catch((e) => e);
  assert.ok(isDecodeError(error));
  assert.equal(error.version, 4);
  assert.equal(error.seqNo, 5);
  assert.match(error.message, /version 4/);
});
