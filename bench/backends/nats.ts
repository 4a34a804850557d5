// The NATS JetStream backend of bench/load.ts: NatsEventLog and NatsSnapshotStore over
// WebSocket on a nats-server that tests/_servers/nats.ts starts (or NATS_WS_URL), and raw
// baselines measured with the bare nats.js client doing the same work in the same stream:
//   sequential: one subject, each publish awaited, with expected-last-subject-sequence;
//   concurrent: `writers` subjects published at once, each in order with the same check;
//   read:       an ordered consumer reading `count` messages of one subject.

import { headers, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { EventLog, SnapshotStore } from "../../mod.ts";
import { NatsEventLog, NatsSnapshotStore } from "../../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "../../tests/_servers/nats.ts";

/** What bench/load.ts gets from a backend. */
export interface OpenBackend {
  eventLog: EventLog;
  snapshotStore: SnapshotStore;
  close(): Promise<void>;
  baseline: {
    sequential(count: number): Promise<number>;
    concurrent(writers: number, perWriter: number): Promise<number>;
    read?(count: number): Promise<number>;
  };
}

// About the size of a JSON counter event.
const PAYLOAD = new TextEncoder().encode(JSON.stringify({ type: "increased", by: 1, n: 1 }));
const READ_BATCH = 1_024;
let run = 0;

async function publishInOrder(
  js: JetStreamClient,
  subject: string,
  count: number,
): Promise<void> {
  let last = 0;
  for (let i = 0; i < count; i++) {
    const h = headers();
    h.set("Eventsourced-Seq-No", `${i + 1}`);
    h.set("Nats-Expected-Last-Subject-Sequence", `${last}`);
    last = (await js.publish(subject, PAYLOAD, { headers: h })).seq;
  }
}

function rawBaseline(nc: NatsConnection, stream: string): OpenBackend["baseline"] {
  const js = jetstream(nc, { timeout: 10_000 });
  const subject = (name: string) => `eventsourced.rawbench-${++run}-${Date.now()}.${name}`;
  return {
    async sequential(count) {
      const started = performance.now();
      await publishInOrder(js, subject("one"), count);
      return count / ((performance.now() - started) / 1000);
    },
    async concurrent(writers, perWriter) {
      const prefix = subject("w");
      const started = performance.now();
      await Promise.all(
        Array.from({ length: writers }, (_, w) => publishInOrder(js, `${prefix}${w}`, perWriter)),
      );
      return (writers * perWriter) / ((performance.now() - started) / 1000);
    },
    async read(count) {
      const target = subject("read");
      // Written untimed, many in flight, then read back with an ordered consumer.
      for (let i = 0; i < count; i += 1_000) {
        await Promise.all(
          Array.from({ length: Math.min(1_000, count - i) }, () => js.publish(target, PAYLOAD)),
        );
      }
      const started = performance.now();
      const consumer = await js.consumers.get(stream, { filter_subjects: target });
      const messages = await consumer.consume({ max_messages: READ_BATCH });
      let seen = 0;
      for await (const msg of messages) {
        if (msg.data.length > 0) seen++;
        if (seen === count) break;
      }
      messages.stop();
      await consumer.delete();
      return count / ((performance.now() - started) / 1000);
    },
  };
}

/** The NATS JetStream backend. */
const backend: { name: string; open(): Promise<OpenBackend> } = {
  name: "nats",
  async open(): Promise<OpenBackend> {
    const server: NatsTestServer = await startNatsServer();
    const eventLog = await NatsEventLog.connect({ servers: server.wsUrl, timeout: 10_000 });
    const snapshotStore = new NatsSnapshotStore(eventLog.connection, { timeout: 10_000 });
    await eventLog.setup();
    await snapshotStore.setup();
    // The raw client gets a connection of its own, as the adapter has.
    const raw = await wsconnect({ servers: server.wsUrl });
    return {
      eventLog,
      snapshotStore,
      baseline: rawBaseline(raw, "eventsourced"),
      async close() {
        await raw.close();
        await eventLog.close();
        await server.dispose();
      },
    };
  },
};

export default backend;
