// Integration tests of NatsSnapshotStore against a real nats-server over WebSocket.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { testSnapshotStore, uniqueTypeName } from "../testing/mod.ts";
import { isStorageError } from "../mod.ts";
import { NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;

before(async () => {
  server = await startNatsServer();
  const store = await NatsSnapshotStore.connect({ servers: server.wsUrl });
  try {
    await store.setup();
  } finally {
    await store.close();
  }
});

after(async () => {
  await server?.dispose();
});

testSnapshotStore(
  "NatsSnapshotStore",
  () => NatsSnapshotStore.connect({ servers: server.wsUrl }),
  { dispose: (store) => (store as NatsSnapshotStore).close() },
);

test("NatsSnapshotStore: saves from two connections at once leave the highest seqNo", async () => {
  const first = await NatsSnapshotStore.connect({ servers: server.wsUrl });
  const second = await NatsSnapshotStore.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    const seqNos = Array.from({ length: 40 }, (_, i) => (i * 37) % 101 + 1);
    await Promise.all(
      seqNos.map((seqNo, i) =>
        (i % 2 === 0 ? first : second).save(typeName, "a", seqNo, new Uint8Array([seqNo]))
      ),
    );
    const highest = Math.max(...seqNos);
    for (const store of [first, second]) {
      const loaded = await store.load(typeName, "a");
      assert.equal(loaded?.seqNo, highest);
      assert.deepEqual([...loaded!.bytes], [highest]);
    }
  } finally {
    await first.close();
    await second.close();
  }
});

test("NatsSnapshotStore: keys are <typeName>.<encoded id> in a bucket that keeps one value per key", async () => {
  const store = await NatsSnapshotStore.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    await store.save(typeName, "a.b c", 1, new Uint8Array([1]));
    await store.save(typeName, "a.b c", 2, new Uint8Array([2]));
    const kv = await new Kvm(store.connection).open("eventsourced-snapshots");
    const keys = [];
    for await (const key of await kv.keys(`${typeName}.>`)) keys.push(key);
    assert.deepEqual(keys, [`${typeName}.a=2Eb=20c`]);
    const status = await kv.status();
    assert.equal(status.history, 1);
    assert.equal(status.streamInfo.config.storage, "file");
  } finally {
    await store.close();
  }
});

test("NatsSnapshotStore: without setup a missing bucket is a clear error", async () => {
  const store = await NatsSnapshotStore.connect({ servers: server.wsUrl, bucket: "missing" });
  try {
    await assert.rejects(
      store.load("counter", "a"),
      /bucket "missing" does not exist \(call setup\(\) first\)/,
    );
    await assert.rejects(store.save("counter", "a", 1, new Uint8Array()), /does not exist/);
    await store.setup();
    await store.save("counter", "a", 1, new Uint8Array([5]));
    assert.equal((await store.load("counter", "a"))?.seqNo, 1);
  } finally {
    await store.close();
  }
});

test("NatsSnapshotStore: a value saved before versions (format 1) loads as version 1; other versions use format 2 and version 1 keeps format 1", async () => {
  const store = await NatsSnapshotStore.connect({ servers: server.wsUrl });
  try {
    const typeName = uniqueTypeName();
    const kv = await new Kvm(store.connection).open("eventsourced-snapshots");
    // As the releases before versions wrote it: format byte 1, seqNo (u64 big-endian), state.
    const old = new Uint8Array(9 + 3);
    old[0] = 1;
    new DataView(old.buffer).setBigUint64(1, 5n);
    old.set([7, 8, 9], 9);
    await kv.put(`${typeName}.old`, old);
    const loaded = await store.load(typeName, "old");
    assert.deepEqual([loaded?.seqNo, loaded?.version, [...loaded!.bytes]], [5, 1, [7, 8, 9]]);

    await store.save(typeName, "old", 6, new Uint8Array([1]), { version: 300 });
    const v300 = (await kv.get(`${typeName}.old`))!.value;
    assert.deepEqual([...v300], [2, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 1, 44, 1]);
    assert.deepEqual((await store.load(typeName, "old"))?.version, 300);

    await store.save(typeName, "old", 7, new Uint8Array([2]));
    assert.deepEqual([...(await kv.get(`${typeName}.old`))!.value], [1, 0, 0, 0, 0, 0, 0, 0, 7, 2]);

    // A format-2 value whose version is 0, and one with an unknown format, are corrupt data.
    await kv.put(`${typeName}.zero`, new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));
    await kv.put(`${typeName}.future`, new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]));
    for (const id of ["zero", "future"]) {
      const error = await store.load(typeName, id).catch((e) => e);
      assert.ok(isStorageError(error) && error.reason === "corrupt-data", `${id}: got ${error}`);
      assert.match(error.message, new RegExp(`${typeName}\\.${id}`));
    }
  } finally {
    await store.close();
  }
});
