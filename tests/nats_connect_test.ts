// NatsEventLog.connect and NatsSnapshotStore.connect against real nats-servers that require
// authentication: user and password, NKey and token; and what happens without a WebSocket.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { nkeys } from "@nats-io/nats-core";
import { uniqueTypeName } from "../testing/mod.ts";
import { NatsEventLog, NatsSnapshotStore } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

const user = nkeys.createUser();
const seed = new TextDecoder().decode(user.getSeed());
let users: NatsTestServer;
let tokens: NatsTestServer;

before(async () => {
  users = await startNatsServer({
    extraConfig: [
      `authorization {`,
      `  users: [`,
      `    { user: "app", password: "s3cret" }`,
      `    { nkey: "${user.getPublicKey()}" }`,
      `  ]`,
      `}`,
    ].join("\n"),
  });
  tokens = await startNatsServer({ extraConfig: `authorization { token: "t0k3n" }` });
});

after(async () => {
  await users?.dispose();
  await tokens?.dispose();
});

const one = new Uint8Array([1]);

test("connect: user and password open an owned connection that close() ends", async () => {
  const log = await NatsEventLog.connect({ servers: users.wsUrl, user: "app", pass: "s3cret" });
  await log.setup();
  assert.equal(await log.persist(uniqueTypeName(), "a", null, [one]), 1);
  await log.close();
  assert.equal(log.connection.isClosed(), true);
});

test("connect: a wrong password is refused", async () => {
  await assert.rejects(
    NatsEventLog.connect({
      servers: users.wsUrl,
      user: "app",
      pass: "wrong",
      connectionOptions: { reconnect: false },
    }),
    /authorization|authentication/i,
  );
});

test("connect: an NKey seed signs the server's challenge", async () => {
  const store = await NatsSnapshotStore.connect({ servers: users.wsUrl, nkeySeed: seed });
  try {
    await store.setup();
    await store.save("counter", "a", 3, one);
    assert.equal((await store.load("counter", "a"))?.seqNo, 3);
  } finally {
    await store.close();
  }
});

test("connect: a token", async () => {
  const log = await NatsEventLog.connect({ servers: tokens.wsUrl, token: "t0k3n" });
  try {
    await log.setup();
    assert.equal(await log.persist(uniqueTypeName(), "a", null, [one]), 1);
  } finally {
    await log.close();
  }
});

test("connect: a wsFactory builds the WebSocket where the runtime has none as a global", async () => {
  const NativeWebSocket = globalThis.WebSocket;
  let made = 0;
  const wsFactory = (url: string) => {
    made++;
    return Promise.resolve({ socket: new NativeWebSocket(url), encrypted: false });
  };
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "WebSocket");
  Object.defineProperty(globalThis, "WebSocket", {
    value: undefined,
    configurable: true,
    writable: true,
  });
  try {
    await assert.rejects(
      NatsEventLog.connect({ servers: tokens.wsUrl, token: "t0k3n" }),
      (error: Error) =>
        error instanceof TypeError && /--experimental-websocket/.test(error.message),
    );
    const log = await NatsEventLog.connect({ servers: tokens.wsUrl, token: "t0k3n", wsFactory });
    try {
      assert.equal(made, 1);
      await log.setup();
      assert.equal(await log.lastSeqNo(uniqueTypeName(), "a"), null);
    } finally {
      await log.close();
    }
  } finally {
    if (descriptor) Object.defineProperty(globalThis, "WebSocket", descriptor);
  }
});
