// NatsKeyStore against a real nats-server (over WebSocket, with user and password): the key
// store conformance suite, creates racing from two connections, the key's bytes gone from the
// stream after delete, the bucket's layout, and failures (wrong password, missing bucket, a
// server that went away) as errors, never as null.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { testKeyStore, uniqueTypeName } from "../testing/mod.ts";
import { isStorageError } from "../mod.ts";
import { NatsKeyStore, type NatsKeyStoreOptions } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
const BUCKET = "eventsourced-keys";
const STREAM = `KV_${BUCKET}`;

before(async () => {
  server = await startNatsServer({
    extraConfig: [
      `authorization {`,
      `  users: [`,
      `    { user: "app", password: "s3cret" }`,
      `  ]`,
      `}`,
    ].join("\n"),
  });
  const store = await open();
  try {
    await store.setup();
  } finally {
    await store.close();
  }
});

after(async () => {
  await server?.dispose();
});

function open(options: NatsKeyStoreOptions = {}): Promise<NatsKeyStore> {
  return NatsKeyStore.connect({ servers: server.wsUrl, user: "app", pass: "s3cret", ...options });
}

const key = (seed: number) => ({
  keyId: new Uint8Array(16).fill(seed),
  key: new Uint8Array(32).fill(seed + 100),
});

testKeyStore("NatsKeyStore", () => open(), {
  dispose: (store) => (store as NatsKeyStore).close(),
});

test("NatsKeyStore: creates racing from two connections agree on one key per entity", async () => {
  const first = await open();
  const second = await open();
  try {
    const typeName = uniqueTypeName();
    const ids = Array.from({ length: 20 }, (_, i) => `e${i}`);
    const results = await Promise.all(
      ids.flatMap((id, i) => [
        first.create(typeName, id, key(2 * i + 1)),
        second.create(typeName, id, key(2 * i + 2)),
      ]),
    );
    for (const [i, id] of ids.entries()) {
      const stored = await second.get(typeName, id);
      assert.ok(stored !== null);
      for (const result of [results[2 * i]!, results[2 * i + 1]!]) {
        assert.deepEqual([...result.keyId], [...stored.keyId], `id ${id}`);
        assert.deepEqual([...result.key], [...stored.key], `id ${id}`);
      }
    }
  } finally {
    await first.close();
    await second.close();
  }
});

test("NatsKeyStore: after delete no revision of the key's bytes is left in the bucket's stream", async () => {
  const store = await open();
  try {
    const typeName = uniqueTypeName();
    // Random bytes, so that no other test's key matches them.
    const given = {
      keyId: crypto.getRandomValues(new Uint8Array(16)),
      key: crypto.getRandomValues(new Uint8Array(32)),
    };
    await store.create(typeName, "a.b", given);
    await store.create(typeName, "other", key(3));
    const kv = await new Kvm(store.connection).open(BUCKET);
    const name = `${typeName}.a=2Eb`;
    const revision = (await kv.get(name))!.revision;
    assert.equal(await store.delete(typeName, "a.b"), true);

    const jsm = await jetstreamManager(store.connection);
    // The client answers null (or throws, in older releases) for a message that is gone.
    const old = await jsm.streams.getMessage(STREAM, { seq: revision }).catch((e) => {
      assert.match(String(e), /no message found/i);
      return null;
    });
    assert.equal(old, null, "the revision that held the key is gone");
    const marker = await jsm.streams.getMessage(STREAM, {
      last_by_subj: `$KV.${BUCKET}.${name}`,
    });
    assert.equal(marker?.data.length, 0, "only an empty purge marker is left");
    assert.equal(marker?.header.get("KV-Operation"), "PURGE");
    const history = [];
    for await (const entry of await kv.history({ key: name })) history.push(entry);
    assert.deepEqual(history.map((e) => [e.operation, e.value.length]), [["PURGE", 0]]);

    // No message of the whole stream holds the key's bytes.
    const { state } = await jsm.streams.info(STREAM);
    let read = 0;
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      if (message === null) continue;
      read++;
      assert.ok(!contains(message.data, given.key), `message ${seq} holds the key`);
      assert.ok(!contains(message.data, given.keyId), `message ${seq} holds the key id`);
    }
    assert.ok(read > 0, "the stream was read");
    assert.notEqual(await store.get(typeName, "other"), null, "the other key stays");
  } finally {
    await store.close();
  }
});

test("NatsKeyStore: keys are <typeName>.<encoded id> in a file bucket that keeps one value per key", async () => {
  const store = await open();
  try {
    const typeName = uniqueTypeName();
    await store.create(typeName, "a.b c", key(1));
    const kv = await new Kvm(store.connection).open(BUCKET);
    const keys = [];
    for await (const name of await kv.keys(`${typeName}.>`)) keys.push(name);
    assert.deepEqual(keys, [`${typeName}.a=2Eb=20c`]);
    const value = (await kv.get(keys[0]!))!.value;
    assert.deepEqual([...value], [1, ...key(1).keyId, ...key(1).key], "format 1, id, key");
    const status = await kv.status();
    assert.equal(status.history, 1);
    assert.equal(status.streamInfo.config.storage, "file");
  } finally {
    await store.close();
  }
});

test("NatsKeyStore: a value not in its format is corrupt-data, not null", async () => {
  const store = await open();
  try {
    const typeName = uniqueTypeName();
    const kv = await new Kvm(store.connection).open(BUCKET);
    await kv.put(`${typeName}.bad`, new Uint8Array([2, 1, 2, 3]));
    const error = await store.get(typeName, "bad").catch((e) => e);
    assert.ok(isStorageError(error) && error.reason === "corrupt-data", `${error}`);
    assert.match(error.message, new RegExp(`${typeName}\\.bad`));
  } finally {
    await store.close();
  }
});

test("NatsKeyStore: without setup a missing bucket is schema-missing, not null", async () => {
  const store = await open({ bucket: "missing-keys" });
  try {
    for (const call of [() => store.get("customer", "a"), () => store.delete("customer", "a")]) {
      const error = await call().catch((e) => e);
      assert.ok(isStorageError(error) && error.reason === "schema-missing", `${error}`);
      assert.match(error.message, /bucket "missing-keys" does not exist \(call setup\(\) first\)/);
    }
    const error = await store.create("customer", "a", key(1)).catch((e) => e);
    assert.ok(isStorageError(error) && error.reason === "schema-missing", `${error}`);
  } finally {
    await store.close();
  }
});

test("NatsKeyStore: a wrong password is refused at connect", async () => {
  await assert.rejects(
    NatsKeyStore.connect({
      servers: server.wsUrl,
      user: "app",
      pass: "wrong",
      connectionOptions: { reconnect: false },
    }),
    /authorization|authentication/i,
  );
});

test("NatsKeyStore: bad options are refused before any I/O", async () => {
  await assert.rejects(open({ bucket: "a.b" }), /Invalid NatsKeyStore.connect option bucket/);
  await assert.rejects(open({ buckt: "x" } as NatsKeyStoreOptions), /buckt/);
  assert.throws(() => new NatsKeyStore({} as never), /Invalid nc/);
});

// Last: it stops the server.
test(
  "NatsKeyStore: a server that went away is an error, not null",
  { timeout: 60_000 },
  async () => {
    const store = await open({ timeout: 1_000 });
    try {
      await store.create("customer", "gone", key(1));
      await server.stop();
      for (
        const call of [
          () => store.get("customer", "gone"),
          () => store.create("customer", "new", key(2)),
          () => store.delete("customer", "gone"),
        ]
      ) {
        const error = await call().catch((e) => e);
        assert.ok(isStorageError(error), `expected a StorageError, got ${error}`);
        assert.ok(
          ["timeout", "unavailable", "closed", "outcome-unknown"].includes(error.reason),
          `reason ${error.reason}: ${error.message}`,
        );
      }
    } finally {
      await store.close();
    }
  },
);

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
