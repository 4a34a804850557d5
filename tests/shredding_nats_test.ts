// Crypto-shredding on a real nats-server (over WebSocket): events in a NatsEventLog,
// snapshots, keys and projection offsets in KV buckets; the scenarios of every backend.

import { after, before, test } from "node:test";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import {
  NatsEventLog,
  NatsKeyStore,
  NatsOffsetStore,
  NatsSnapshotStore,
} from "../adapters/nats/mod.ts";
import {
  personalFieldsScenario,
  type ShreddingBackend,
  wholeEventsScenario,
} from "./_shredding_scenario.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let backend: ShreddingBackend<unknown>;

before(async () => {
  server = await startNatsServer();
  nc = await wsconnect({ servers: server.wsUrl });
  const eventLog = new NatsEventLog(nc);
  await eventLog.setup();
  const snapshotStore = new NatsSnapshotStore(nc);
  await snapshotStore.setup();
  const keyStore = new NatsKeyStore(nc);
  await keyStore.setup();
  const offsetStore = new NatsOffsetStore(nc);
  await offsetStore.setup();
  backend = {
    eventLog,
    snapshotStore,
    keyStore,
    offsetStore: offsetStore as unknown as ShreddingBackend<unknown>["offsetStore"],
  };
}, { timeout: 60_000 });

after(async () => {
  await nc?.close();
  await server?.dispose();
}, { timeout: 60_000 });

test("NATS: personal fields read as forgotten everywhere; the rest intact", async () => {
  await personalFieldsScenario(backend);
});

test("NATS: whole events read as FORGOTTEN_EVENT, the whole state as forgottenState", async () => {
  await wholeEventsScenario(backend);
});
