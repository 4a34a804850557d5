// The NATS JetStream backend of bench/load.ts: NatsEventLog and NatsSnapshotStore over
// WebSocket on a nats-server that tests/_servers/nats.ts starts (or NATS_WS_URL), and raw
// baselines measured with the bare nats.js client doing the same work in the same stream:
//   sequential: one subject, each publish awaited, with expected-last-subject-sequence;
//   concurrent: `writers` subjects published at once, each in order with the same check;
//   read:       the subjects of the last concurrent run read back at once, one ordered consumer
//               each (the shape of the replay it is compared with).
// Opened with `metadata`, each raw publish also carries the headers the adapter writes for a
// command's commandId and correlationId, values of the same length as bench/load.ts's.

import { headers, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { Baseline, BenchBackend, OpenedBackend, OpenOptions } from "../_backend.ts";
import { NatsEventLog, NatsSnapshotStore } from "../../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "../../tests/_servers/nats.ts";

// About the size of a JSON counter event.
const PAYLOAD = new TextEncoder().encode(JSON.stringify({ type: "increased", by: 1, n: 1 }));
const READ_BATCH = 1_024;
let run = 0;

async function publishInOrder(
  js: JetStreamClient,
  subject: string,
  count: number,
  withMetadata: boolean,
): Promise<void> {
  let last = 0;
  // As bench/load.ts names them: "<uuid>-<entity>" and "<correlationId>-<slice>-<command>".
  const correlationId = `${crypto.randomUUID()}-0`;
  for (let i = 0; i < count; i++) {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", `${last}`);
    h.set("Eventsourced-Seq-No", `${i + 1}`);
    if (withMetadata) {
      h.set("Es-Command-Id", `${correlationId}-0-${i}`);
      h.set("Es-Correlation-Id", correlationId);
    }
    last = (await js.publish(subject, PAYLOAD, { headers: h })).seq;
  }
}

function rawBaseline(nc: NatsConnection, stream: string, withMetadata: boolean): Baseline {
  const js = jetstream(nc, { timeout: 10_000 });
  const subject = (name: string) => `eventsourced.rawbench-${++run}-${Date.now()}.${name}`;
  let lastWriters: string[] = [];
  return {
    async sequential(count) {
      const started = performance.now();
      await publishInOrder(js, subject("one"), count, withMetadata);
      return count / ((performance.now() - started) / 1000);
    },
    async concurrent(writers, perWriter) {
      const prefix = subject("w");
      lastWriters = Array.from({ length: writers }, (_, w) => `${prefix}${w}`);
      const started = performance.now();
      await Promise.all(
        lastWriters.map((s) => publishInOrder(js, s, perWriter, withMetadata)),
      );
      return (writers * perWriter) / ((performance.now() - started) / 1000);
    },
    async read(count) {
      // The replay it compares with reads every entity of the concurrent phase back, one
      // ordered consumer per entity subject, all at once, out of a stream where their messages
      // are interleaved; so does this, over the subjects the last concurrent() wrote.
      let subjects = lastWriters;
      if (subjects.length === 0) {
        const prefix = subject("r");
        subjects = Array.from({ length: 64 }, (_, w) => `${prefix}${w}`);
        await Promise.all(
          subjects.map((s) =>
            publishInOrder(js, s, Math.ceil(count / subjects.length), withMetadata)
          ),
        );
      }
      const started = performance.now();
      let seen = 0;
      await Promise.all(subjects.map(async (filter) => {
        const consumer = await js.consumers.get(stream, { filter_subjects: filter });
        const messages = await consumer.consume({ max_messages: READ_BATCH });
        for await (const msg of messages) {
          if (msg.data.length > 0) seen++;
          if (msg.info.pending === 0) break;
        }
        messages.stop();
        await consumer.delete();
      }));
      return seen / ((performance.now() - started) / 1000);
    },
  };
}

/** The NATS JetStream backend. */
const backend: BenchBackend = {
  name: "nats",
  async open(options: OpenOptions = {}): Promise<OpenedBackend> {
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
      baseline: rawBaseline(raw, "eventsourced", options.metadata === true),
      async close() {
        await raw.close();
        await eventLog.close();
        await server.dispose();
      },
    };
  },
};

export default backend;
