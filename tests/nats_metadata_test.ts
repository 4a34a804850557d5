// Versions, metadata and writtenAt on a real nats-server (over WebSocket): exact round trips of
// every string the metadata limits allow through every read path (consumer, direct get, message
// get), messages as the releases before metadata wrote them, the headers on the wire, and
// malformed headers from other writers.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { headers, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import {
  DiscardPolicy,
  jetstream,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type EventMetadata, isConcurrencyError, isStorageError, METADATA_LIMITS } from "../mod.ts";
import { collect, take, uniqueTypeName } from "../testing/mod.ts";
import { encodeToken, NatsEventLog } from "../adapters/nats/mod.ts";
import type { PersistedEvent } from "../src/event_log.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let log: NatsEventLog;
// A stream without direct gets, so head messages come from the message get API.
let plainLog: NatsEventLog;

before(async () => {
  server = await startNatsServer();
  nc = await wsconnect({ servers: server.wsUrl });
  jsm = await jetstreamManager(nc);
  log = new NatsEventLog(nc);
  await log.setup();
  await jsm.streams.add({
    name: "nodirect",
    subjects: ["nodirect.>"],
    discard: DiscardPolicy.New,
    allow_direct: false,
  });
  plainLog = new NatsEventLog(nc, { stream: "nodirect", subjectPrefix: "nodirect" });
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

const bytes = (...values: number[]) => new Uint8Array(values);

// Strings that NATS headers would not carry as they are: spaces NATS trims, '%' and escapes,
// ':' and quotes, non-ASCII (what String.trim would also strip), the empty string.
const AWKWARD = [
  "",
  " ",
  "   ",
  " leading",
  "trailing ",
  "  both  ",
  "in  the   middle",
  "%",
  "%20",
  "%zz",
  "100% sure",
  "a+b=c&d",
  "key: value; more: \"quoted\" 'single'",
  "ünïcödé 🙂 中文",
  "\u00a0nbsp\u00a0",
  "\ufeffbom",
  "\u2028line separator\u2029",
  "\u0080\u009f C1",
  "back\\slash",
  "NATS/1.0",
  "Nats-Expected-Last-Subject-Sequence: 7",
];

// Every read path returns `expected` for the events of `typeName/id`: from the entity's start
// (consumer), from its last seqNo (the head message by a get), by type, and live by type.
async function readEverywhere(
  on: NatsEventLog,
  typeName: string,
  id: string,
): Promise<PersistedEvent[][]> {
  const all = await collect(on.eventsById(typeName, id, 1));
  const fromHead = await collect(on.eventsById(typeName, id, all.at(-1)!.seqNo));
  const byTypeAll = await collect(on.eventsByType(typeName, 0));
  const liveAll = await take(on.eventsByType(typeName, 0, { live: true }), byTypeAll.length);
  const ofId = (events: PersistedEvent[]) => events.filter((e) => e.id === id);
  return [all, fromHead, ofId(byTypeAll), ofId(liveAll)];
}

const plain = (event: PersistedEvent) => ({
  seqNo: event.seqNo,
  version: event.version,
  writtenAt: event.writtenAt,
  metadata: JSON.parse(JSON.stringify(event.metadata)),
});

for (const [label, on] of [["direct gets", () => log], ["message gets", () => plainLog]] as const) {
  test(`NatsEventLog (${label}): every string the metadata limits allow round-trips exactly on every read`, async () => {
    const typeName = uniqueTypeName();
    let last: number | null = null;
    const written: EventMetadata[] = [];
    for (const [i, value] of AWKWARD.entries()) {
      const metadata: EventMetadata = {
        ...(value === ""
          ? {}
          : { commandId: value, correlationId: `${value}-c`, causationId: value }),
        headers: { value, [`h${i}`]: value, Trace: "upper", trace: "lower" },
      };
      written.push(metadata);
      last = await on().persist(typeName, "a", last, [bytes(i)], { metadata, version: i + 1 });
    }
    const [all] = await readEverywhere(on(), typeName, "a");
    assert.equal(all!.length, AWKWARD.length);
    for (const [i, event] of all!.entries()) {
      assert.deepEqual({ ...event.metadata }, written[i], `event ${i + 1}`);
      assert.deepEqual(
        Object.keys(event.metadata.headers!),
        Object.keys(written[i]!.headers!).sort(),
      );
      assert.equal(event.version, i + 1);
      assert.ok(Object.isFrozen(event.metadata) && Object.isFrozen(event.metadata.headers));
    }
    // The last event through each path, including a get of the head message.
    for (let i = 0; i < 2; i++) {
      const [, head, byType, live] = await readEverywhere(on(), typeName, "a");
      for (const events of [byType!, live!]) assert.deepEqual(events.map(plain), all!.map(plain));
      assert.deepEqual(head!.map(plain), all!.slice(-1).map(plain));
    }
  });
}

test("NatsEventLog: the largest metadata the limits allow round-trips on a multi-event persist, and every event of it shares version, metadata and writtenAt", async () => {
  const typeName = uniqueTypeName();
  const id = "x".repeat(10);
  const longName = (i: number) => `${i}-${"n".repeat(METADATA_LIMITS.maxHeaderNameLength - 3)}`;
  const headerMap: Record<string, string> = {};
  for (let i = 0; i < METADATA_LIMITS.maxHeaders; i++) {
    // Three bytes per UTF-16 unit, the most any value takes ('%' is sent as "%25"); one an
    // astral character (two units, four bytes) each.
    const [char, n] = [["€", 1], ["%", 1], ["🙂", 2]][i % 3] as [string, number];
    headerMap[longName(10 + i)] = char.repeat(METADATA_LIMITS.maxHeaderValueLength / n);
  }
  // About 53 KB of headers, under JetStream's 64 KiB.
  const metadata: EventMetadata = {
    commandId: "€".repeat(METADATA_LIMITS.maxIdLength),
    correlationId: " ".repeat(METADATA_LIMITS.maxIdLength),
    causationId: "%".repeat(METADATA_LIMITS.maxIdLength),
    headers: headerMap,
  };
  await log.persist(typeName, id, null, [bytes(1), bytes(2), bytes(3)], {
    metadata,
    version: 2_147_483_647,
  });
  await log.persist(typeName, id, 3, [bytes(4), bytes(5)]);
  for (const events of await readEverywhere(log, typeName, id)) {
    const batch = events.filter((e) => e.seqNo <= 3);
    for (const event of batch) {
      assert.deepEqual({ ...event.metadata }, metadata);
      assert.equal(event.version, 2_147_483_647);
      assert.equal(event.metadata, batch[0]!.metadata);
      assert.equal(event.writtenAt, batch[0]!.writtenAt);
    }
    for (const event of events.filter((e) => e.seqNo > 3)) {
      assert.deepEqual([event.version, { ...event.metadata }], [1, {}]);
    }
  }
});

test("NatsEventLog: a persist whose metadata pushes its message over max_payload fails as too-large and writes nothing", async () => {
  const typeName = uniqueTypeName();
  const event = new Uint8Array(log.maxEventBytes - 1_000);
  // The event alone fits, with any version.
  assert.equal(await log.persist(typeName, "a", null, [event], { version: 2_147_483_647 }), 1);
  const metadata = { headers: { big: "€".repeat(METADATA_LIMITS.maxHeaderValueLength) } };
  const error = await log.persist(typeName, "a", 1, [event], { metadata }).catch((e) => e);
  assert.ok(isStorageError(error) && error.reason === "too-large", `got ${error}`);
  assert.match(
    error.message,
    /after seqNo 1: its message has \d+ bytes with headers, more than the server's max_payload/,
  );
  assert.equal(await log.lastSeqNo(typeName, "a"), 1);
  assert.equal(await log.persist(typeName, "a", 1, [bytes(2)], { metadata }), 2);
});

// The headers of the stored message with stream sequence `seq`, in stored order.
async function storedHeaders(stream: string, seq: number): Promise<[string, string[]][]> {
  const sm = await jsm.streams.getMessage(stream, { seq });
  return [...sm!.header];
}

test("NatsEventLog: the headers on the wire: the check first, the version only when not 1, names with their case, values percent-encoded only where needed", async () => {
  const typeName = uniqueTypeName();
  await log.persist(typeName, "a", null, [bytes(1)]);
  await log.persist(typeName, "a", 1, [bytes(2), bytes(3)], {
    version: 3,
    metadata: {
      commandId: "cmd-1",
      correlationId: "ünï",
      // A space NATS would trim is escaped at either end, and so is every '%'.
      causationId: " 50% ",
      headers: { "User.Name": "ada", "user.name": "", "x-1": "a: b" },
    },
  });
  const [first, second] = await collect(log.eventsByType(typeName, 0));
  const seqOf = (e: PersistedEvent) => Math.floor(e.position / 100_000);
  assert.deepEqual(await storedHeaders("eventsourced", seqOf(first!)), [
    ["Nats-Expected-Last-Subject-Sequence", ["0"]],
    ["Eventsourced-Seq-No", ["1"]],
  ]);
  assert.deepEqual(await storedHeaders("eventsourced", seqOf(second!)), [
    ["Nats-Expected-Last-Subject-Sequence", [`${seqOf(first!)}`]],
    ["Eventsourced-Seq-No", ["2"]],
    ["Eventsourced-Count", ["2"]],
    ["Es-Version", ["3"]],
    ["Es-Command-Id", ["cmd-1"]],
    ["Es-Correlation-Id", ["ünï"]],
    ["Es-Causation-Id", ["%2050%25%20"]],
    ["Es-H-User.Name", ["ada"]],
    ["Es-H-user.name", [""]],
    ["Es-H-x-1", ["a: b"]],
  ]);
});

test("NatsEventLog: metadata headers named like JetStream's own headers change nothing: the concurrency check holds, nothing is deduplicated", async () => {
  const typeName = uniqueTypeName();
  const metadata = {
    headers: {
      "Nats-Expected-Last-Subject-Sequence": "0",
      "Nats-Msg-Id": "same",
      "Nats-Rollup": "sub",
      "Eventsourced-Seq-No": "1",
    },
  };
  const other = new NatsEventLog(nc);
  assert.equal(await log.persist(typeName, "a", null, [bytes(1)], { metadata }), 1);
  // A second writer that believes the entity is new is refused by the server's check.
  const error = await other.persist(typeName, "a", null, [bytes(2)], { metadata })
    .catch((e) => e);
  assert.ok(isConcurrencyError(error), `got ${error}`);
  assert.equal(await log.persist(typeName, "a", 1, [bytes(3)], { metadata }), 2);
  const events = await collect(log.eventsById(typeName, "a", 1));
  assert.deepEqual(events.map((e) => [e.seqNo, [...e.bytes]]), [[1, [1]], [2, [3]]]);
  for (const event of events) assert.deepEqual({ ...event.metadata }, metadata);
});

// The body of a message of several events: each framed with its 4-byte big-endian length.
function frame(events: Uint8Array[]): Uint8Array {
  const body = new Uint8Array(events.reduce((n, e) => n + 4 + e.length, 0));
  const view = new DataView(body.buffer);
  let offset = 0;
  for (const event of events) {
    view.setUint32(offset, event.length);
    body.set(event, offset + 4);
    offset += 4 + event.length;
  }
  return body;
}

// A message as the releases before metadata published it: seqNo and count headers, then the
// check, through js.publish.
async function publishAsBefore(
  typeName: string,
  id: string,
  firstSeqNo: number,
  events: Uint8Array[],
  expected: number,
): Promise<number> {
  const h = headers();
  h.set("Eventsourced-Seq-No", `${firstSeqNo}`);
  if (events.length > 1) h.set("Eventsourced-Count", `${events.length}`);
  h.set("Nats-Expected-Last-Subject-Sequence", `${expected}`);
  const body = events.length === 1 ? events[0]! : frame(events);
  const subject = `eventsourced.${typeName}.${encodeToken(id)}`;
  return (await jetstream(nc).publish(subject, body, { headers: h })).seq;
}

test("NatsEventLog: messages written before metadata read as version 1 with {} beside new ones on every read path", async () => {
  const typeName = uniqueTypeName();
  const before = Date.now();
  const s1 = await publishAsBefore(typeName, "old", 1, [bytes(1)], 0);
  const s2 = await publishAsBefore(typeName, "old", 2, [bytes(2), bytes(3)], s1);
  const fresh = new NatsEventLog(nc);
  await fresh.persist(typeName, "old", 3, [bytes(4)], {
    version: 2,
    metadata: { correlationId: "new" },
  });
  const after = Date.now();
  assert.ok(s2 > s1);
  for (const events of await readEverywhere(fresh, typeName, "old")) {
    for (const event of events) {
      const expected = event.seqNo <= 3 ? [1, {}] : [2, { correlationId: "new" }];
      assert.deepEqual([event.version, { ...event.metadata }], expected, `seqNo ${event.seqNo}`);
      assert.ok(event.writtenAt >= before - 1 && event.writtenAt <= after + 1);
    }
  }
  const [head] = await collect(fresh.eventsById(typeName, "old", 3));
  assert.deepEqual([head!.seqNo, head!.version, head!.metadata], [3, 1, {}]);
});

test("NatsEventLog: writtenAt is the stored timestamp of the message (server clock, ms), the same on every read path and never back within an entity", async () => {
  const typeName = uniqueTypeName();
  const before = Date.now();
  let last: number | null = null;
  for (let i = 0; i < 30; i++) {
    last = await log.persist(typeName, "a", last, i % 3 === 0 ? [bytes(i), bytes(i)] : [bytes(i)]);
  }
  const after = Date.now();
  const events = await collect(log.eventsById(typeName, "a", 1));
  for (const [i, event] of events.entries()) {
    if (i > 0) assert.ok(event.writtenAt >= events[i - 1]!.writtenAt);
    assert.ok(event.writtenAt >= before - 1 && event.writtenAt <= after + 1, `${event.writtenAt}`);
    // The server's own account of when it stored the message, cut to milliseconds.
    const sm = await jsm.streams.getMessage("eventsourced", {
      seq: Math.floor(event.position / 100_000),
    });
    const serverMs = Date.parse(sm!.timestamp.replace(/(\.\d{3})\d*/, "$1"));
    assert.ok(Math.abs(event.writtenAt - serverMs) <= 1, `${event.writtenAt} vs ${sm!.timestamp}`);
  }
  for (const event of events) {
    const [fromHere] = await collect(log.eventsById(typeName, "a", event.seqNo));
    assert.equal(fromHere!.writtenAt, event.writtenAt, `seqNo ${event.seqNo}`);
  }
  const byType = await collect(log.eventsByType(typeName, 0));
  assert.deepEqual(byType.map((e) => e.writtenAt), events.map((e) => e.writtenAt));
});

test("NatsEventLog: malformed version or metadata headers from another writer are corrupt data naming the message, on consumer and get reads", async () => {
  const js = jetstream(nc);
  const cases: [string, Record<string, string>, RegExp][] = [
    ["badversion", { "Es-Version": "two" }, /Es-Version "two"/],
    ["zeroversion", { "Es-Version": "0" }, /Es-Version "0"/],
    ["bigversion", { "Es-Version": "2147483648" }, /Es-Version/],
    ["badescape", { "Es-Command-Id": "%zz" }, /Es-Command-Id "%zz" is not percent-encoded/],
    ["badutf8", { "Es-H-x": "%C3" }, /Es-H-x/],
  ];
  for (const [id, extra, pattern] of cases) {
    // A type of its own: a read by type stops at the first malformed message.
    const typeName = uniqueTypeName();
    const h = headers();
    h.set("Eventsourced-Seq-No", "1");
    h.set("Eventsourced-Count", "2");
    for (const [name, value] of Object.entries(extra)) h.set(name, value);
    await js.publish(`eventsourced.${typeName}.${id}`, frame([bytes(1), bytes(2)]), { headers: h });
    // From seqNo 1 a consumer reads the message; from seqNo 2 a get of the head message does.
    for (
      const read of [
        () => log.eventsById(typeName, id, 1),
        () => log.eventsById(typeName, id, 2),
        () => log.eventsByType(typeName, 0),
      ]
    ) {
      const error = await collect(read()).catch((e) => e);
      assert.ok(isStorageError(error) && error.reason === "corrupt-data", `${id}: got ${error}`);
      assert.match(error.message, new RegExp(`${typeName}/${id}`));
      assert.match(error.message, pattern);
    }
  }
  // An unknown Es- header is no error: it is left out.
  const h = headers();
  h.set("Eventsourced-Seq-No", "1");
  h.set("Es-Future", "anything");
  h.set("Es-Version", "4");
  const typeName = uniqueTypeName();
  await js.publish(`eventsourced.${typeName}.future`, bytes(1), { headers: h });
  const [event] = await collect(log.eventsById(typeName, "future", 1));
  assert.deepEqual([event!.version, { ...event!.metadata }], [4, {}]);
});
