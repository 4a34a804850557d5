// Integration tests of NatsEventLog against a real nats-server over WebSocket: the
// conformance suite, and what is particular to NATS (layout, batches, consumers, setup).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { wsconnect } from "@nats-io/nats-core";
import { connect as tcpConnect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { isConcurrencyError, isStorageError } from "../mod.ts";
import { collect, testEventLog, uniqueTypeName } from "../testing/mod.ts";
import { encodeToken, NatsEventLog } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;

before(async () => {
  server = await startNatsServer();
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    await log.setup();
  } finally {
    await log.close();
  }
});

after(async () => {
  await server?.dispose();
});

testEventLog(
  "NatsEventLog",
  () => NatsEventLog.connect({ servers: server.wsUrl }),
  {
    dispose: (log) => (log as NatsEventLog).close(),
    sameStorage: () => NatsEventLog.connect({ servers: server.wsUrl }),
    // A persist is one message and deleteEvents purges whole messages: the deletion checks
    // write each event with a persist of its own (delete_nats_test.ts covers the rest).
    deletion: "whole-persists",
  },
);

const bytes = (...values: number[]) => new Uint8Array(values);

test("NatsEventLog: two logs on two connections creating the same entity at once: one wins each seqNo", async () => {
  const first = await NatsEventLog.connect({ servers: server.wsUrl });
  const second = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    for (let entity = 0; entity < 20; entity++) {
      const id = `new-${entity}`;
      let last: number | null = null;
      for (let round = 0; round < 3; round++) {
        const results: PromiseSettledResult<number>[] = await Promise.allSettled([
          first.persist(typeName, id, last, [bytes(entity, round, 1)]),
          second.persist(typeName, id, last, [bytes(entity, round, 2)]),
        ]);
        const won = results.filter((r): r is PromiseFulfilledResult<number> =>
          r.status === "fulfilled"
        );
        assert.equal(won.length, 1, `entity ${id} round ${round}: ${won.length} winners`);
        const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        assert.ok(isConcurrencyError(lost.reason), String(lost.reason));
        assert.equal(lost.reason.expected, last);
        assert.equal(lost.reason.actual, (last ?? 0) + 1);
        last = won[0]!.value;
        assert.equal(last, round + 1);
      }
      const events = await collect(first.eventsById(typeName, id, 1));
      assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3]);
    }
  } finally {
    await first.close();
    await second.close();
  }
});

test("NatsEventLog: one persist of several events is one message, and reads honour fromSeqNo and fromPosition inside it", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    await log.persist(typeName, "a", 1, [bytes(2), bytes(3), bytes(4), bytes(5)]);
    await log.persist(typeName, "a", 5, [bytes(6)]);
    const all = await collect(log.eventsByType(typeName, 0));
    assert.deepEqual(all.map((e) => e.seqNo), [1, 2, 3, 4, 5, 6]);
    // The four events of the batch share a stream sequence and differ in the low digits.
    const batch = all.slice(1, 5).map((e) => e.position);
    assert.deepEqual(batch.map((p) => p - batch[0]!), [0, 1, 2, 3]);
    assert.equal(all[5]!.position % 100_000, 0);
    for (const [i, event] of all.entries()) {
      const rest = await collect(log.eventsByType(typeName, event.position));
      assert.deepEqual(rest.map((e) => e.seqNo), all.slice(i).map((e) => e.seqNo));
      const fromSeqNo = await collect(log.eventsById(typeName, "a", event.seqNo));
      assert.deepEqual(fromSeqNo.map((e) => [...e.bytes]), all.slice(i).map((e) => [...e.bytes]));
    }
    assert.deepEqual(
      await collect(log.eventsByType(typeName, all[2]!.position + 1)).then((r) =>
        r.map((e) => e.seqNo)
      ),
      [4, 5, 6],
    );
    const live = log.eventsById(typeName, "a", 4, { live: true }).getReader();
    assert.deepEqual([(await live.read()).value?.seqNo, (await live.read()).value?.seqNo], [4, 5]);
    await live.cancel();
  } finally {
    await log.close();
  }
});

test("NatsEventLog: each entity has its own subject with the id encoded losslessly", async () => {
  const nc = await wsconnect({ servers: server.wsUrl });
  try {
    const log = new NatsEventLog(nc);
    const typeName = uniqueTypeName();
    const ids = ["a.b", "a*", ">", "a b", "ü", "😀", "'; --", "x=2Ey", "x.2Ey", "\t\n"];
    for (const id of ids) await log.persist(typeName, id, null, [bytes(1)]);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("eventsourced", {
      subjects_filter: `eventsourced.${typeName}.>`,
    });
    const subjects = Object.keys(info.state.subjects ?? {}).sort();
    assert.deepEqual(
      subjects,
      ids.map((id) => `eventsourced.${typeName}.${encodeToken(id)}`).sort(),
    );
    for (const subject of subjects) assert.equal(subject.split(".").length, 3, subject);
    const byType = await collect(log.eventsByType(typeName, 0));
    assert.deepEqual(byType.map((e) => e.id), ids);
  } finally {
    await nc.close();
  }
});

test("NatsEventLog: finite reads, cancel and abort delete their consumers on the server", async () => {
  const nc = await wsconnect({ servers: server.wsUrl });
  try {
    const log = new NatsEventLog(nc);
    const jsm = await jetstreamManager(nc);
    const count = async () => (await jsm.streams.info("eventsourced")).state.consumer_count;
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    await log.persist(typeName, "a", 1, [bytes(2)]);
    const before = await count();
    assert.equal((await collect(log.eventsById(typeName, "a", 1))).length, 2);
    assert.equal((await collect(log.eventsByType(typeName, 0))).length, 2);
    const reader = log.eventsByType(typeName, 0, { live: true }).getReader();
    await reader.read();
    assert.equal(await count(), before + 1);
    await reader.cancel();
    const controller = new AbortController();
    const aborted = log.eventsById(typeName, "a", 1, { live: true, signal: controller.signal })
      .getReader();
    await aborted.read();
    assert.equal(await count(), before + 1);
    controller.abort(new Error("done"));
    await assert.rejects(aborted.read(), /done/);
    for (let i = 0; i < 50 && (await count()) !== before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await count(), before);
  } finally {
    await nc.close();
  }
});

test("NatsEventLog: a read of many events comes in batches and keeps its order", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl }).then((l) => l);
  const small = new NatsEventLog(log.connection, { readBatchSize: 7 });
  try {
    const typeName = uniqueTypeName();
    let last: number | null = null;
    for (let i = 0; i < 60; i++) {
      last = await log.persist(
        typeName,
        "a",
        last,
        i % 3 === 0 ? [bytes(i), bytes(i)] : [bytes(i)],
      );
    }
    const events = await collect(small.eventsById(typeName, "a", 1));
    assert.deepEqual(events.map((e) => e.seqNo), Array.from({ length: last! }, (_, i) => i + 1));
    const byType = await collect(small.eventsByType(typeName, 0));
    assert.deepEqual(byType.map((e) => e.seqNo), events.map((e) => e.seqNo));
  } finally {
    await log.close();
  }
});

test("NatsEventLog: without setup a missing stream is a clear error", async () => {
  const log = await NatsEventLog.connect({
    servers: server.wsUrl,
    stream: "missing",
    subjectPrefix: "missing",
  });
  try {
    await assert.rejects(
      log.persist("counter", "a", null, [bytes(1)]),
      /stream "missing" does not exist \(call setup\(\) first\)/,
    );
    await assert.rejects(log.lastSeqNo("counter", "a"), /does not exist/);
    await assert.rejects(collect(log.eventsByType("counter", 0)), /does not exist/);
  } finally {
    await log.close();
  }
});

test("NatsEventLog: setup creates a file-backed limits stream that keeps every event", async () => {
  const log = await NatsEventLog.connect({
    servers: server.wsUrl,
    stream: "setup-check",
    subjectPrefix: "setupcheck",
  });
  try {
    await log.setup();
    await log.setup();
    const jsm = await jetstreamManager(log.connection);
    const { config } = await jsm.streams.info("setup-check");
    assert.deepEqual(config.subjects, ["setupcheck.>"]);
    assert.equal(config.retention, "limits");
    assert.equal(config.storage, "file");
    assert.equal(config.num_replicas, 1);
    assert.equal(config.max_age, 0);
    assert.equal(config.max_bytes, -1);
    assert.equal(config.max_msgs, -1);
    assert.equal(config.max_msgs_per_subject, -1);
    assert.equal(config.discard, "new");
    assert.equal(await log.persist("counter", "a", null, [bytes(1)]), 1);
    const other = new NatsEventLog(log.connection, {
      stream: "setup-check",
      subjectPrefix: "other",
    });
    await assert.rejects(other.lastSeqNo("counter", "a"), /do not include "other\.>"/);
  } finally {
    await log.close();
  }
});

test("NatsEventLog: a TCP connection from transport-node works the same and stays open after close", async () => {
  // The server of NATS_WS_URL has no known TCP address: then this test starts its own.
  const own = server.tcpUrl === undefined ? await startNatsServer({ own: true }) : undefined;
  const nc = await tcpConnect({ servers: (own ?? server).tcpUrl! });
  try {
    const log = new NatsEventLog(nc);
    await log.setup();
    const typeName = uniqueTypeName();
    assert.equal(await log.persist(typeName, "a", null, [bytes(1), bytes(2)]), 2);
    await log.close();
    assert.equal(nc.isClosed(), false);
    assert.equal(await log.lastSeqNo(typeName, "a"), 2);
  } finally {
    await nc.close();
    await own?.dispose();
  }
});

test("NatsEventLog: an aborted persist rejects with the signal's reason", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const signal = AbortSignal.abort(new Error("no thanks"));
    await assert.rejects(
      log.persist(uniqueTypeName(), "a", null, [bytes(1)], { signal }),
      /no thanks/,
    );
  } finally {
    await log.close();
  }
});

test("NatsEventLog: reads from far into a long entity start at the right message, also inside a batch", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    let last: number | null = null;
    let other: number | null = null;
    // 1 300 events in messages of 1 to 4 events, interleaved with another entity's.
    for (let i = 0; last === null || last < 1_300; i++) {
      const size = 1 + (i % 4);
      const events = Array.from({ length: size }, (_, k) => bytes(i % 256, k));
      last = await log.persist(typeName, "long", last, events);
      other = await log.persist(typeName, "other", other, [bytes(i % 256)]);
    }
    const all = await collect(log.eventsById(typeName, "long", 1));
    assert.deepEqual(all.map((e) => e.seqNo), Array.from({ length: last }, (_, i) => i + 1));
    for (const from of [513, 700, 701, 702, 703, 999, 1_000, 1_250, last - 1]) {
      const events = await collect(log.eventsById(typeName, "long", from));
      assert.deepEqual(
        events.map((e) => e.seqNo),
        all.slice(from - 1).map((e) => e.seqNo),
        `from ${from}`,
      );
      assert.deepEqual(
        events.map((e) => [...e.bytes]),
        all.slice(from - 1).map((e) => [...e.bytes]),
      );
      assert.deepEqual(events.map((e) => e.position), all.slice(from - 1).map((e) => e.position));
    }
    const live = log.eventsById(typeName, "long", 900, { live: true }).getReader();
    assert.equal((await live.read()).value?.seqNo, 900);
    assert.equal((await live.read()).value?.seqNo, 901);
    await live.cancel();
  } finally {
    await log.close();
  }
});

test("NatsEventLog: an entity with at most 8 events before its last message is read with direct gets and no consumer, the same events as a consumer reads", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  const watcher = await wsconnect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    // Entities of 1 to 10 messages of 1 to 3 events each, interleaved with each other (an
    // entity of 9 or 10 messages has more than 8 events before its head: a consumer reads it).
    const heads = new Map<string, number | null>();
    for (let round = 0; round < 10; round++) {
      for (let messages = round + 1; messages <= 10; messages++) {
        const id = `m${messages}`;
        const events = Array.from(
          { length: 1 + ((round + messages) % 3) },
          (_, k) => bytes(messages, round, k),
        );
        heads.set(id, await log.persist(typeName, id, heads.get(id) ?? null, events));
      }
    }
    // What a consumer reads: the type's events, by entity.
    const byType = await collect(log.eventsByType(typeName, 0));
    const created: string[] = [];
    const advisories = watcher.subscribe("$JS.EVENT.ADVISORY.CONSUMER.CREATED.>", {
      callback: (_error, msg) => {
        created.push(msg.subject);
      },
    });
    await watcher.flush();
    for (let messages = 1; messages <= 10; messages++) {
      const id = `m${messages}`;
      const expected = byType.filter((e) => e.id === id);
      assert.equal(expected.length, heads.get(id));
      for (const from of [0, 1, 2, 3, 5, heads.get(id)!, heads.get(id)! + 1]) {
        const events = await collect(log.eventsById(typeName, id, from));
        assert.deepEqual(events, expected.slice(Math.max(from, 1) - 1), `${id} from ${from}`);
      }
      created.length = 0;
      await collect(log.eventsById(typeName, id, 1));
      await watcher.flush();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The events before the head message bound the messages before it: up to 8, no consumer.
      const headSeq = Math.floor(expected.at(-1)!.position / 100_000);
      const before = expected.filter((e) => Math.floor(e.position / 100_000) < headSeq).length;
      assert.equal(created.length > 0, before > 8, `${id}: ${created.length} consumers`);
      created.length = 0;
    }
    advisories.unsubscribe();
  } finally {
    await watcher.close();
    await log.close();
  }
});

test("NatsEventLog: a persist bigger than the server's max_payload fails as too-large and writes nothing", async () => {
  const log = await NatsEventLog.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    await log.persist(typeName, "a", null, [bytes(1)]);
    const big = new Uint8Array(2 * 1024 * 1024);
    const error = await log.persist(typeName, "a", 1, [big]).catch((e) => e);
    assert.ok(isStorageError(error) && error.reason === "too-large", `got ${error}`);
    assert.match(error.message, /Cannot persist events for ".*\/a": events\[0\] has 2097152 bytes/);
    const halves = await log.persist(typeName, "a", 1, [
      big.subarray(0, 600_000),
      big.subarray(0, 600_000),
    ])
      .catch((e) => e);
    assert.ok(isStorageError(halves) && halves.reason === "too-large", `got ${halves}`);
    assert.match(
      halves.message,
      /Cannot persist 2 event\(s\) for ".*\/a" after seqNo 1: .*max_payload/,
    );
    assert.equal(await log.lastSeqNo(typeName, "a"), 1);
    assert.equal(await log.persist(typeName, "a", 1, [bytes(2)]), 2);
  } finally {
    await log.close();
  }
});
