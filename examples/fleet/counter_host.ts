// Starts an EntityHost that hosts the counter (./counter.ts) in a cluster: the counters' events
// in JetStream (NatsEventLog) and their snapshots in a KV bucket (NatsSnapshotStore), both on
// the host's own connection. Used by ./host.ts and by ../http-server/main.ts.

import type { NatsConnection } from "@nats-io/nats-core";
import { jsonBinarize } from "../../mod.ts";
import { EntityHost, NatsEventLog, NatsSnapshotStore } from "../../adapters/nats/mod.ts";
import { counterCommands, type CounterEvent } from "./counter.ts";

/** Where the counters live and how the host joins the cluster. */
export interface CounterHostOptions {
  /** The cluster's name: hosts and clients of one fleet share it. */
  cluster: string;
  /** The host's id (default: a random one). */
  hostId?: string | undefined;
  /** Shards per entity type, for the first host of a new cluster (default 64). */
  shards?: number | undefined;
  /** JetStream stream and subject prefix of the events (default "eventsourced"). */
  stream?: string | undefined;
  /** Reports failures the host cannot hand to a caller. */
  onError?: ((error: unknown) => void) | undefined;
}

/** Sets up the stream and the snapshot bucket (if missing) and joins the cluster. */
export async function startCounterHost(
  nc: NatsConnection,
  options: CounterHostOptions,
): Promise<EntityHost> {
  const stream = options.stream === undefined
    ? {}
    : { stream: options.stream, subjectPrefix: options.stream };
  const eventLog = new NatsEventLog(nc, stream);
  const snapshotStore = new NatsSnapshotStore(nc);
  await eventLog.setup();
  await snapshotStore.setup();
  return await EntityHost.start(nc, {
    cluster: options.cluster,
    ...(options.hostId === undefined ? {} : { hostId: options.hostId }),
    ...(options.shards === undefined ? {} : { shards: options.shards }),
    entities: [{
      commands: counterCommands,
      eventLog,
      snapshotStore,
      snapshotAfter: 100,
      binarize: jsonBinarize<CounterEvent, number>(),
      passivateAfter: 5 * 60_000,
    }],
    onError: options.onError ?? ((error) => console.error("host:", error)),
  });
}
