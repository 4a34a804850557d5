// The offsets of projections over several types on a real nats-server: all types of a name in
// one KV value moved by compare-and-set, refused when stale, exclusive with single-type runners.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { NatsOffsetStore } from "../adapters/nats/mod.ts";
import { isProjectionError, MultiTypeProjection } from "../projection/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { jsonBinarize } from "../mod.ts";
import { collect, uniqueTypeName, within } from "../testing/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let store: NatsOffsetStore;

before(async () => {
  server = await startNatsServer();
  nc = await wsconnect({ servers: server.wsUrl });
  store = new NatsOffsetStore(nc, { bucket: "types_offsets" });
  await store.setup();
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

const noWork = async () => {};

test("type offsets start at 0 and move together, kept in one value under types.<name>", async () => {
  const lease = await store.acquire("two-types");
  try {
    assert.deepEqual(
      await lease.loadTypes!(["account", "transfer"]),
      new Map([["account", 0], ["transfer", 0]]),
    );
    await lease.commitTypes!(
      new Map([["account", { from: 0, to: 4 }], ["transfer", { from: 0, to: 7 }]]),
      noWork,
    );
    await lease.commitTypes!(new Map([["transfer", { from: 7, to: 9 }]]), noWork);
    assert.deepEqual(
      await lease.loadTypes!(["transfer", "account", "other"]),
      new Map([["transfer", 9], ["account", 4], ["other", 0]]),
    );
  } finally {
    await lease.release();
  }
  assert.deepEqual(
    await store.loadTypes("two-types", ["account", "transfer"]),
    new Map([["account", 4], ["transfer", 9]]),
  );
  const kv = await new Kvm(nc).open("types_offsets");
  assert.equal((await kv.get("types.two-types"))?.string(), '{"account":4,"transfer":9}');
  // The single-type offset of the name is a different key and stays untouched.
  assert.equal(await kv.get("two-types"), null);
  assert.equal(await store.load("two-types"), 0);
});

test("a stale from refuses the whole move before the work, and a failed work stores nothing", async () => {
  const lease = await store.acquire("stale-types");
  try {
    await lease.commitTypes!(
      new Map([["a", { from: 0, to: 2 }], ["b", { from: 0, to: 3 }]]),
      noWork,
    );
    let ran = false;
    const stale = await lease.commitTypes!(
      new Map([["a", { from: 2, to: 5 }], ["b", { from: 1, to: 6 }]]),
      () => Promise.resolve(void (ran = true)),
    ).catch((e) => e);
    assert.ok(isProjectionError(stale) && stale.reason === "offset-conflict", String(stale));
    assert.match(stale.message, /type "b" to be 1, found 3/);
    assert.equal(ran, false);
    const boom = new Error("boom");
    const failed = await lease.commitTypes!(
      new Map([["a", { from: 2, to: 5 }]]),
      () => Promise.reject(boom),
    ).catch((e) => e);
    assert.equal(failed, boom);
    assert.deepEqual(await lease.loadTypes!(["a", "b"]), new Map([["a", 2], ["b", 3]]));
  } finally {
    await lease.release();
  }
});

test("of two runners of one name on different connections, the later commit is a conflict", async () => {
  const otherNc = await wsconnect({ servers: server.wsUrl });
  try {
    const other = new NatsOffsetStore(otherNc, { bucket: "types_offsets" });
    const first = await store.acquire("raced-types");
    const second = await other.acquire("raced-types");
    assert.deepEqual(await first.loadTypes!(["a"]), new Map([["a", 0]]));
    assert.deepEqual(await second.loadTypes!(["a"]), new Map([["a", 0]]));
    await first.commitTypes!(new Map([["a", { from: 0, to: 1 }]]), noWork);
    const error = await second.commitTypes!(new Map([["a", { from: 0, to: 2 }]]), noWork)
      .catch((e) => e);
    assert.ok(isProjectionError(error) && error.reason === "offset-conflict", String(error));
    assert.deepEqual(await store.loadTypes("raced-types", ["a"]), new Map([["a", 1]]));
    await first.release();
    await second.release();
  } finally {
    await otherNc.close();
  }
});

test("a single-type and a multi-type runner of one name exclude each other", async () => {
  const single = await store.acquire("shared-name");
  const error = await store.acquire("shared-name").catch((e) => e);
  assert.ok(isProjectionError(error) && error.reason === "locked", String(error));
  await single.release();
  const multi = await store.acquire("shared-name");
  await multi.commitTypes!(new Map([["a", { from: 0, to: 1 }]]), noWork);
  const again = await store.acquire("shared-name").catch((e) => e);
  assert.ok(isProjectionError(again) && again.reason === "locked", String(again));
  await multi.release();
});

test("bad type names and changes are refused before anything is read or written", async () => {
  await assert.rejects(store.loadTypes("bad-input", []), /Invalid typeNames/);
  await assert.rejects(store.loadTypes("bad-input", ["a", "a"]), /repeated/);
  await assert.rejects(store.loadTypes("bad input", ["a"]), /Invalid projection name/);
  const lease = await store.acquire("bad-input");
  try {
    await assert.rejects(lease.loadTypes!(["no.dots"]), /Invalid typeName/);
    let ran = false;
    const work = () => Promise.resolve(void (ran = true));
    await assert.rejects(lease.commitTypes!(new Map(), work), /non-empty Map/);
    await assert.rejects(
      lease.commitTypes!(new Map([["a", { from: -1, to: 2 }]]), work),
      /Invalid change of type "a"/,
    );
    await assert.rejects(
      lease.commitTypes!(new Map([["a b", { from: 0, to: 2 }]]), work),
      /Invalid typeName/,
    );
    assert.equal(ran, false);
  } finally {
    await lease.release();
  }
  const kv = await new Kvm(nc).open("types_offsets");
  assert.equal(await kv.get("types.bad-input"), null);
});

test("a projection over two types on a NatsEventLog resumes each type from its offset after a restart", async () => {
  const eventLog = new NatsEventLog(nc);
  await eventLog.setup();
  const [account, transfer] = [uniqueTypeName("account"), uniqueTypeName("transfer")];
  const codec = jsonBinarize<number, number>();
  const seen: string[] = [];
  const make = (offsetStore: NatsOffsetStore) =>
    new MultiTypeProjection("nats-two-types", {
      types: { [account]: codec, [transfer]: codec },
      eventLog,
      offsetStore,
      handleEvent: ({ typeName, event }) =>
        void seen.push(`${typeName === account ? "a" : "t"}${event}`),
    });
  const write = (type: string, id: string, after: number | null, values: number[]) =>
    eventLog.persist(type, id, after, values.map((v) => codec.eventToBytes(v)));
  await write(account, "x", null, [1, 2]);
  await write(transfer, "y", null, [1, 2, 3]);
  const first = make(store);
  await first.run();
  await within(first.whenCaughtUp(), 20_000, "the first run to catch up");
  await first.stop();
  const heads = async () => {
    const last = async (type: string) =>
      (await collect(eventLog.eventsByType(type, 0))).at(-1)!.position;
    return new Map([[account, await last(account)], [transfer, await last(transfer)]]);
  };
  assert.deepEqual(await store.loadTypes("nats-two-types", [account, transfer]), await heads());
  assert.deepEqual(seen.filter((e) => e.startsWith("a")), ["a1", "a2"]);
  assert.deepEqual(seen.filter((e) => e.startsWith("t")), ["t1", "t2", "t3"]);

  seen.length = 0;
  await write(account, "x", 2, [3]);
  await write(transfer, "y", 3, [4, 5]);
  const otherNc = await wsconnect({ servers: server.wsUrl });
  try {
    const second = make(new NatsOffsetStore(otherNc, { bucket: "types_offsets" }));
    const state = await second.run();
    assert.deepEqual(
      new Map(Object.entries(state.offsets!)),
      await store.loadTypes("nats-two-types", [account, transfer]),
    );
    await within(second.whenCaughtUp(), 20_000, "the second run to catch up");
    await second.stop();
  } finally {
    await otherNc.close();
  }
  // Only the events after each type's offset came again; each type in its order.
  assert.deepEqual(seen.filter((e) => e.startsWith("a")), ["a3"]);
  assert.deepEqual(seen.filter((e) => e.startsWith("t")), ["t4", "t5"]);
  assert.deepEqual(await store.loadTypes("nats-two-types", [account, transfer]), await heads());
});
