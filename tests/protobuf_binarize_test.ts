import { test } from "node:test";
import assert from "node:assert/strict";
import {
  create,
  createFileRegistry,
  type DescMessage,
  type Message,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  type Command,
  emitAndReply,
  EventReader,
  type EventSourced,
  isDecodeError,
  isSpawnError,
  MemoryEventLog,
  MemorySnapshotStore,
  reject,
  reply,
  spawn,
} from "../mod.ts";
import { collect } from "../testing/mod.ts";
import {
  isProtobufDecodeError,
  PROTOBUF_DECODE_ERROR_CODE,
  protobufBinarize,
  type ProtobufBinarizeOptions,
  protobufVersion,
} from "../protobuf/mod.ts";
import {
  type CounterEvent,
  CounterEventSchema,
  type CounterState,
  CounterStateSchema,
} from "../examples/proto/gen/counter_pb.ts";
import { AccountEventSchema, AccountStateSchema } from "../examples/proto/gen/bank_pb.ts";
import { accountBinarize, transferBinarize } from "../examples/proto/bank_codec.ts";
import { account, deposit, withdraw } from "../examples/bank/account.ts";

const binarize = protobufBinarize(CounterEventSchema, CounterStateSchema, { eventOneof: "event" });

const increased = (by: number): CounterEvent =>
  create(CounterEventSchema, { event: { case: "increased", value: { by } } });
const decreased = (by: number): CounterEvent =>
  create(CounterEventSchema, { event: { case: "decreased", value: { by } } });

const counter: EventSourced<CounterState, CounterEvent> = {
  typeName: "pbcounter",
  initialState: create(CounterStateSchema),
  handleEvent: (state, { event }) => {
    switch (event.case) {
      case "increased":
        return create(CounterStateSchema, { value: state.value + event.value.by });
      case "decreased":
        return create(CounterStateSchema, { value: state.value - event.value.by });
      default:
        throw new Error("An event without a case");
    }
  },
};

const increase = (by: number): Command<CounterState, CounterEvent, number, "Overflow"> => ({
  handleCommand: (_id, state) =>
    state.value + by > 0xffff_ffff
      ? reject("Overflow")
      : emitAndReply(increased(by), (s) => s.value),
});
const decrease = (by: number): Command<CounterState, CounterEvent, number, "Underflow"> => ({
  handleCommand: (_id, state) =>
    state.value < by ? reject("Underflow") : emitAndReply(decreased(by), (s) => s.value),
});

test("protobufBinarize round-trips each kind of event of the oneof and the state", () => {
  for (const event of [increased(1), decreased(7), increased(0xffff_ffff)]) {
    const bytes = binarize.eventToBytes(event);
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(binarize.eventFromBytes(bytes), event);
  }
  const state = create(CounterStateSchema, { value: 42 });
  assert.deepEqual(binarize.stateFromBytes(binarize.stateToBytes(state)), state);
  // The default state is the empty message, zero bytes on the wire.
  assert.equal(binarize.stateToBytes(create(CounterStateSchema)).length, 0);
});

test("protobufBinarize writes the protobuf wire format of the schema", () => {
  // field 1 (increased), length 2, { field 1 (by) varint 5 }
  assert.deepEqual([...binarize.eventToBytes(increased(5))], [0x0a, 0x02, 0x08, 0x05]);
  // field 2 (decreased), length 3, { field 1 (by) varint 300 = 0xac 0x02 }
  assert.deepEqual([...binarize.eventToBytes(decreased(300))], [0x12, 0x03, 0x08, 0xac, 0x02]);
});

test("protobufBinarize round-trips the bank schema: strings, 64-bit integers, repeated fields", () => {
  const bank = protobufBinarize(AccountEventSchema, AccountStateSchema, { eventOneof: "event" });
  const events = [
    create(AccountEventSchema, {
      event: { case: "deposited", value: { amount: 2n ** 60n, reference: "Zoë 🏦" } },
    }),
    create(AccountEventSchema, { event: { case: "withdrawn", value: { amount: 50n } } }),
  ];
  for (const event of events) {
    assert.deepEqual(bank.eventFromBytes(bank.eventToBytes(event)), event);
  }
  const state = create(AccountStateSchema, { balance: -1200n, references: ["a", "b", "Zoë"] });
  assert.deepEqual(bank.stateFromBytes(bank.stateToBytes(state)), state);
});

test("the bank example's plain events and states round-trip through its protobuf codec", () => {
  const accounts = accountBinarize();
  const deposit = { type: "deposited", amount: 100_00, reference: "t1:credit" } as const;
  assert.deepEqual(accounts.eventFromBytes(accounts.eventToBytes(deposit)), deposit);
  const state = { balance: 123_45, references: ["t1:credit", "t2:debit"] };
  assert.deepEqual(accounts.stateFromBytes(accounts.stateToBytes(state)), state);

  const transfers = transferBinarize();
  const events = [
    { type: "requested", from: "alice", to: "bob", amount: 25_00 },
    { type: "debited" },
    { type: "credited" },
    { type: "declined", reason: "Insufficient funds" },
  ] as const;
  for (const event of events) {
    assert.deepEqual(transfers.eventFromBytes(transfers.eventToBytes(event)), event);
  }
  for (
    const transfer of [
      { status: "new", from: "", to: "", amount: 0 },
      { status: "declined", from: "a", to: "b", amount: 5, reason: "no" },
    ] as const
  ) {
    assert.deepEqual(transfers.stateFromBytes(transfers.stateToBytes(transfer)), transfer);
  }
});

test("the bank example's account entity runs on the protobuf codec", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const options = { eventLog, snapshotStore, snapshotAfter: 2, binarize: accountBinarize() };
  const ref = await spawn(account, "alice", options);
  assert.deepEqual(await ref.handleCommand(deposit(100_00, "r1")), { ok: true, value: 100_00 });
  assert.deepEqual(await ref.handleCommand(withdraw(30_00, "r2")), { ok: true, value: 70_00 });
  await ref.stop();
  const again = await spawn(account, "alice", options);
  assert.deepEqual(await again.handleCommand(withdraw(70_01, "r3")), {
    ok: false,
    error: { type: "InsufficientFunds", balance: 70_00, requested: 70_01 },
  });
  await again.stop();
});

test("an entity spawned with the protobuf codec persists, snapshots and recovers", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  const options = { eventLog, snapshotStore, snapshotAfter: 2, binarize };
  const ref = await spawn(counter, "c1", options);
  assert.deepEqual(await ref.handleCommand(increase(5)), { ok: true, value: 5 });
  assert.deepEqual(await ref.handleCommand(increase(4)), { ok: true, value: 9 });
  assert.deepEqual(await ref.handleCommand(decrease(2)), { ok: true, value: 7 });
  assert.deepEqual(await ref.handleCommand(decrease(8)), { ok: false, error: "Underflow" });
  await ref.stop();

  const stored = await collect(eventLog.eventsById("pbcounter", "c1", 1));
  assert.deepEqual(stored.map((e) => binarize.eventFromBytes(e.bytes)), [
    increased(5),
    increased(4),
    decreased(2),
  ]);
  const snapshot = await snapshotStore.load("pbcounter", "c1");
  assert.ok(snapshot !== null);
  assert.equal(snapshot.seqNo, 2);
  assert.equal(binarize.stateFromBytes(snapshot.bytes).value, 9);

  const again = await spawn(counter, "c1", options);
  assert.deepEqual(await again.handleCommand(increase(1)), { ok: true, value: 8 });
  await again.stop();
});

test("a schema built at run time writes the same bytes as the generated one", () => {
  const by = [{ name: "by", jsonName: "by", number: 1, type: 13, label: 1 }];
  const registry = createFileRegistry(
    create(FileDescriptorProtoSchema, {
      name: "runtime_counter.proto",
      package: "runtime.counter",
      syntax: "proto3",
      messageType: [
        { name: "Increased", field: by },
        { name: "Decreased", field: by },
        {
          name: "Event",
          oneofDecl: [{ name: "event" }],
          field: ["increased", "decreased"].map((name, i) => ({
            name,
            jsonName: name,
            number: i + 1,
            label: 1,
            type: 11,
            typeName: `.runtime.counter.${i === 0 ? "Increased" : "Decreased"}`,
            oneofIndex: 0,
          })),
        },
        {
          name: "State",
          field: [{ name: "value", jsonName: "value", number: 1, type: 13, label: 1 }],
        },
      ],
    }),
    () => undefined,
  );
  const eventSchema = registry.getMessage("runtime.counter.Event") as DescMessage;
  const stateSchema = registry.getMessage("runtime.counter.State") as DescMessage;
  const runtime = protobufBinarize(eventSchema, stateSchema, { eventOneof: "event" });

  const event = create(eventSchema, { event: { case: "decreased", value: { by: 300 } } });
  const bytes = runtime.eventToBytes(event);
  assert.deepEqual(bytes, binarize.eventToBytes(decreased(300)));
  assert.deepEqual(runtime.eventFromBytes(bytes), event);
  // And the generated schema reads what the run-time one wrote.
  assert.deepEqual(binarize.eventFromBytes(bytes), decreased(300));
  const state = create(stateSchema, { value: 9 });
  assert.deepEqual(runtime.stateFromBytes(runtime.stateToBytes(state)), state);
});

test("truncated bytes fail with a ProtobufDecodeError naming the message and the cause", () => {
  const bytes = binarize.eventToBytes(decreased(300));
  let error: unknown;
  try {
    binarize.eventFromBytes(bytes.subarray(0, 3));
  } catch (e) {
    error = e;
  }
  assert.ok(isProtobufDecodeError(error), String(error));
  assert.equal(error.code, PROTOBUF_DECODE_ERROR_CODE);
  assert.equal(error.messageType, "eventsourced.examples.counter.v1.CounterEvent");
  assert.equal(error.what, "event");
  assert.equal(error.byteLength, 3);
  assert.ok(error.cause instanceof Error);
  assert.match(
    error.message,
    /^Cannot decode event as "eventsourced\.examples\.counter\.v1\.CounterEvent" from 3 bytes: /,
  );
});

test("bytes of an invalid wire type or invalid UTF-8 fail to decode", () => {
  const bank = protobufBinarize(AccountEventSchema, AccountStateSchema);
  // Field 1 with wire type 7, which does not exist.
  assert.throws(() => bank.eventFromBytes(new Uint8Array([0x0f])), isProtobufDecodeError);
  // AccountState.references (field 2) holding the lone byte 0xff, which is not UTF-8.
  assert.throws(
    () => bank.stateFromBytes(new Uint8Array([0x12, 0x01, 0xff])),
    (e: unknown) => isProtobufDecodeError(e) && e.what === "state",
  );
});

test("with eventOneof, an event without a known case is refused both ways", () => {
  // Empty bytes are a valid empty message, but not an event.
  assert.throws(
    () => binarize.eventFromBytes(new Uint8Array()),
    (e: unknown) => isProtobufDecodeError(e) && /no case of oneof "event" is set/.test(e.message),
  );
  // A case from a newer schema (field 9) is kept as an unknown field, so no case is set.
  assert.throws(
    () => binarize.eventFromBytes(new Uint8Array([0x4a, 0x02, 0x08, 0x01])),
    (e: unknown) => isProtobufDecodeError(e) && /increased = 1, decreased = 2/.test(e.message),
  );
  assert.throws(
    () => binarize.eventToBytes(create(CounterEventSchema)),
    (e: unknown) => e instanceof TypeError && /oneof "event" has no case set/.test(e.message),
  );
  // Without the option, protobuf's own rule applies: an empty message is valid.
  const lenient = protobufBinarize(CounterEventSchema, CounterStateSchema);
  assert.equal(lenient.eventFromBytes(new Uint8Array()).event.case, undefined);
});

test("encoding a value that is not a message of the schema throws a TypeError", () => {
  const state = create(CounterStateSchema, { value: 1 });
  assert.throws(
    () => binarize.eventToBytes(state as unknown as CounterEvent),
    /Cannot encode event as "eventsourced\.examples\.counter\.v1\.CounterEvent": .*CounterState/,
  );
  assert.throws(
    () => binarize.stateToBytes({ value: 1 } as unknown as CounterState),
    TypeError,
  );
  // Out of range for uint32: protobuf's own check, wrapped with the message name.
  assert.throws(
    () => binarize.stateToBytes(create(CounterStateSchema, { value: -1 })),
    (e: unknown) => e instanceof TypeError && e.cause instanceof Error,
  );
});

test("protobufBinarize rejects what is not a message descriptor, and unknown oneofs", () => {
  assert.throws(
    () => protobufBinarize({} as DescMessage, CounterStateSchema),
    /Invalid eventSchema: expected a message descriptor/,
  );
  assert.throws(
    () => protobufBinarize(CounterEventSchema, undefined as unknown as DescMessage),
    /Invalid stateSchema/,
  );
  assert.throws(
    () => protobufBinarize(CounterEventSchema, CounterStateSchema, { eventOneof: "kind" }),
    /Invalid eventOneof "kind": message "eventsourced\.examples\.counter\.v1\.CounterEvent" has no such oneof \(has "event"\)/,
  );
});

test("EventReader wraps a protobuf decode failure into a DecodeError naming the event", async () => {
  const eventLog = new MemoryEventLog();
  await eventLog.persist("pbcounter", "a", null, [
    binarize.eventToBytes(increased(1)),
    new Uint8Array([0xff]),
  ]);
  const reader = new EventReader<CounterEvent>("pbcounter", { eventLog, binarize });
  const error = await collect(reader.eventsByType()).catch((e) => e);
  assert.ok(isDecodeError(error));
  assert.equal(error.seqNo, 2);
  assert.ok(isProtobufDecodeError(error.cause));

  const spawnError = await spawn(counter, "a", { eventLog, binarize }).catch((e) => e);
  assert.ok(isSpawnError(spawnError));
});

// Versions: a ledger entry was a signed delta (v1), then a oneof of credit and debit (v2), then
// got a currency (v3, current). States: a bare balance (v1), then with a currency (v2).
const ledgerRegistry = (() => {
  const scalar = (name: string, number: number, type: number, oneofIndex?: number) => ({
    name,
    jsonName: name,
    number,
    type,
    label: 1,
    ...(oneofIndex === undefined ? {} : { oneofIndex }),
  });
  const kind = [scalar("credit", 1, 13, 0), scalar("debit", 2, 13, 0)];
  return createFileRegistry(
    create(FileDescriptorProtoSchema, {
      name: "ledger.proto",
      package: "ledger",
      syntax: "proto3",
      messageType: [
        { name: "EntryV1", field: [scalar("delta", 1, 17)] },
        { name: "EntryV2", oneofDecl: [{ name: "kind" }], field: kind },
        {
          name: "Entry",
          oneofDecl: [{ name: "kind" }],
          field: [...kind, scalar("currency", 3, 9)],
        },
        { name: "StateV1", field: [scalar("balance", 1, 17)] },
        { name: "State", field: [scalar("balance", 1, 17), scalar("currency", 2, 9)] },
      ],
    }),
    () => undefined,
  );
})();
type Kind =
  | { case: "credit"; value: number }
  | { case: "debit"; value: number }
  | { case: undefined; value?: undefined };
type EntryV1 = Message<"ledger.EntryV1"> & { delta: number };
type EntryV2 = Message<"ledger.EntryV2"> & { kind: Kind };
type Entry = Message<"ledger.Entry"> & { kind: Kind; currency: string };
type LedgerStateV1 = Message<"ledger.StateV1"> & { balance: number };
type LedgerState = Message<"ledger.State"> & { balance: number; currency: string };
const EntryV1Schema = ledgerRegistry.getMessage("ledger.EntryV1") as GenMessage<EntryV1>;
const EntryV2Schema = ledgerRegistry.getMessage("ledger.EntryV2") as GenMessage<EntryV2>;
const EntrySchema = ledgerRegistry.getMessage("ledger.Entry") as GenMessage<Entry>;
const LedgerStateV1Schema = ledgerRegistry.getMessage("ledger.StateV1") as GenMessage<
  LedgerStateV1
>;
const LedgerStateSchema = ledgerRegistry.getMessage("ledger.State") as GenMessage<LedgerState>;

const v1Entry = (delta: number) => toBinary(EntryV1Schema, create(EntryV1Schema, { delta }));
const v2Entry = (kind: Kind) => toBinary(EntryV2Schema, create(EntryV2Schema, { kind }));
const entry = (kind: Kind, currency = "EUR") => create(EntrySchema, { kind, currency });

function ledgerBinarize(calls: string[] = [], options: ProtobufBinarizeOptions = {}) {
  return protobufBinarize(EntrySchema, LedgerStateSchema, {
    eventOneof: "kind",
    version: 3,
    versions: {
      1: protobufVersion(EntryV1Schema, (old) => {
        calls.push("1→2");
        return create(EntryV2Schema, {
          kind: old.delta >= 0
            ? { case: "credit", value: old.delta }
            : { case: "debit", value: -old.delta },
        });
      }),
      2: protobufVersion(EntryV2Schema, (old) => {
        calls.push("2→3");
        return create(EntrySchema, { kind: old.kind, currency: "EUR" });
      }),
    },
    stateVersion: 2,
    stateVersions: {
      1: protobufVersion(
        LedgerStateV1Schema,
        (old) => create(LedgerStateSchema, { balance: old.balance, currency: "EUR" }),
      ),
    },
    ...options,
  });
}

test("protobufBinarize decodes an older version with its schema and upcasts it step by step", () => {
  const calls: string[] = [];
  const ledger = ledgerBinarize(calls);
  assert.equal(ledger.eventVersion, 3);
  assert.equal(ledger.stateVersion, 2);
  // The same bytes mean different things in each version: field 1 is a zigzag delta in v1.
  assert.deepEqual(ledger.eventFromBytes(v1Entry(-3), 1), entry({ case: "debit", value: 3 }));
  assert.deepEqual(calls, ["1→2", "2→3"]);
  calls.length = 0;
  assert.deepEqual(
    ledger.eventFromBytes(v2Entry({ case: "credit", value: 7 }), 2),
    entry({ case: "credit", value: 7 }),
  );
  assert.deepEqual(calls, ["2→3"]);
  calls.length = 0;
  const current = entry({ case: "credit", value: 1 }, "CHF");
  assert.deepEqual(ledger.eventFromBytes(ledger.eventToBytes(current), 3), current);
  assert.deepEqual(ledger.eventFromBytes(ledger.eventToBytes(current)), current);
  assert.deepEqual(calls, []);

  const stateV1 = toBinary(LedgerStateV1Schema, create(LedgerStateV1Schema, { balance: -5 }));
  assert.deepEqual(
    ledger.stateFromBytes(stateV1, 1),
    create(LedgerStateSchema, { balance: -5, currency: "EUR" }),
  );
  const state = create(LedgerStateSchema, { balance: 9, currency: "CHF" });
  assert.deepEqual(ledger.stateFromBytes(ledger.stateToBytes(state), 2), state);
});

test("an upcaster may go straight to the current message, ending the chain", () => {
  const ledger = ledgerBinarize([], {
    versions: {
      1: protobufVersion(
        EntryV1Schema,
        (old) => entry({ case: "credit", value: old.delta }, "USD"),
      ),
    },
  });
  assert.deepEqual(
    ledger.eventFromBytes(v1Entry(4), 1),
    entry({ case: "credit", value: 4 }, "USD"),
  );
  // Without versions[2], version-2 events cannot be read.
  assert.throws(
    () => ledger.eventFromBytes(v2Entry({ case: "credit", value: 1 }), 2),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot upcast event from version 2 to 3: no versions[2] is given, so this codec cannot read events of version 2",
  );
});

test("protobufBinarize refuses a newer version, a wrong upcast result and bad old bytes clearly", () => {
  const ledger = ledgerBinarize();
  assert.throws(
    () => ledger.eventFromBytes(v1Entry(1), 4),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot decode event of version 4: this codec reads versions 1 to 3 (the event was written by newer code)",
  );
  assert.throws(() => ledger.stateFromBytes(new Uint8Array(), 3), /state of version 3/);
  assert.throws(() => ledger.eventFromBytes(v1Entry(1), 0), /expected an integer from 1 to 3/);

  const wrong = ledgerBinarize([], {
    versions: {
      1: protobufVersion(EntryV1Schema, () => create(LedgerStateSchema) as unknown as EntryV2),
      2: protobufVersion(EntryV2Schema, (old) => entry(old.kind)),
    },
  });
  assert.throws(
    () => wrong.eventFromBytes(v1Entry(1), 1),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        'Cannot upcast event from version 1: versions[1].upcast returned a "ledger.State", expected a "ledger.EntryV2" (version 2) or a "ledger.Entry" (version 3)',
  );

  const throwing = ledgerBinarize([], {
    versions: {
      1: protobufVersion(EntryV1Schema, () => {
        throw new RangeError("delta out of range");
      }),
    },
  });
  assert.throws(
    () => throwing.eventFromBytes(v1Entry(1), 1),
    (e: unknown) =>
      e instanceof Error && e.cause instanceof RangeError &&
      e.message ===
        "Cannot upcast event from version 1 to 2: versions[1] threw: delta out of range",
  );

  // Old bytes are decoded with the old schema, and its name is in the error.
  assert.throws(
    () => ledger.eventFromBytes(new Uint8Array([0x08]), 1),
    (e: unknown) => isProtobufDecodeError(e) && e.messageType === "ledger.EntryV1",
  );
  // The oneof check applies to the upcast event.
  const caseless = ledgerBinarize([], {
    versions: { 1: protobufVersion(EntryV1Schema, () => create(EntrySchema)) },
  });
  assert.throws(
    () => caseless.eventFromBytes(v1Entry(1), 1),
    (e: unknown) =>
      isProtobufDecodeError(e) &&
      /no case of oneof "kind" .* after upcasting from version 1/.test(e.message),
  );
});

test("protobufBinarize checks its version options when it is created", () => {
  const v1 = protobufVersion(EntryV1Schema, (old) => entry({ case: "credit", value: old.delta }));
  const cases: [unknown, RegExp][] = [
    [
      { eventVersion: 2 },
      /Unknown protobufBinarize option "eventVersion": known options are eventOneof/,
    ],
    [
      { version: 0 },
      /Invalid protobufBinarize option version 0: expected an integer from 1 to 2147483647/,
    ],
    [{ stateVersion: 2.5 }, /Invalid protobufBinarize option stateVersion 2.5/],
    [{ versions: { 1: v1 } }, /option versions key "1": expected none, since version is 1/],
    [
      { version: 2, versions: { 2: v1 } },
      /option versions key "2": expected an integer from 1 to 1/,
    ],
    [{ version: 2, versions: [v1] }, /option versions \(an array\)/],
    [
      { version: 2, versions: { 1: { schema: {}, upcast: () => {} } } },
      /option versions\[1\] \(Object\): expected a protobufVersion\(schema, upcast\)/,
    ],
    [{ stateVersion: 2, stateVersions: { 1: EntryV1Schema } }, /option stateVersions\[1\]/],
    [
      { eventOneof: 1 },
      /Invalid protobufBinarize option eventOneof 1: expected the name of a oneof/,
    ],
    [{ readOptions: "x" }, /Invalid protobufBinarize option readOptions "x"/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => protobufBinarize(EntrySchema, LedgerStateSchema, options as ProtobufBinarizeOptions),
      message,
      String(message),
    );
  }
  assert.throws(
    () => protobufVersion({} as DescMessage, () => create(EntrySchema)),
    /Invalid protobufVersion schema: expected a message descriptor/,
  );
  assert.throws(
    () => protobufVersion(EntryV1Schema, undefined as never),
    /Invalid protobufVersion upcast undefined: expected a function/,
  );
  // A plain object of the right shape serves as well as protobufVersion's.
  const plain = protobufBinarize(EntrySchema, LedgerStateSchema, {
    version: 2,
    versions: { 1: { schema: EntryV1Schema, upcast: () => entry({ case: "credit", value: 1 }) } },
  });
  assert.equal(plain.eventVersion, 2);
  assert.equal(protobufBinarize(EntrySchema, LedgerStateSchema).eventVersion, 1);
});

test("an entity replays v1 protobuf events and a v1 snapshot through the chain; v4 is refused", async () => {
  const eventLog = new MemoryEventLog();
  const snapshotStore = new MemorySnapshotStore();
  await eventLog.persist("ledger", "a", null, [v1Entry(10), v1Entry(-3), v1Entry(5)]);
  await snapshotStore.save(
    "ledger",
    "a",
    2,
    toBinary(LedgerStateV1Schema, create(LedgerStateV1Schema, { balance: 7 })),
  );
  const ledger = ledgerBinarize();
  const book: EventSourced<LedgerState, Entry> = {
    typeName: "ledger",
    initialState: create(LedgerStateSchema, { currency: "EUR" }),
    handleEvent: (state, { kind, currency }) => {
      assert.equal(currency, state.currency);
      const change = kind.case === "credit" ? kind.value : kind.case === "debit" ? -kind.value : 0;
      return create(LedgerStateSchema, { balance: state.balance + change, currency });
    },
  };
  const errors: Error[] = [];
  const options = {
    eventLog,
    snapshotStore,
    binarize: ledger,
    onError: (e: Error) => errors.push(e),
  };
  const ref = await spawn(book, "a", options);
  const balance = { handleCommand: (_id: string, s: LedgerState) => reply(s.balance) };
  assert.deepEqual(await ref.handleCommand(balance), { ok: true, value: 12 });
  assert.deepEqual(errors, [], "the v1 snapshot was upcast, not passed over");
  await ref.stop();

  await eventLog.persist("ledger", "a", 3, [v1Entry(1)], { version: 4 });
  const reader = new EventReader<Entry>("ledger", { eventLog, binarize: ledger });
  const error = await collect(reader.eventsById("a")).catch((e) => e);
  assert.ok(isDecodeError(error));
  assert.equal(error.version, 4);
  assert.match(error.message, /at seqNo 4 \(version 4\)/);
  const spawnError = await spawn(book, "a", options).catch((e) => e);
  assert.ok(isSpawnError(spawnError));
  assert.ok(isDecodeError(spawnError.cause), String(spawnError.cause));
});
