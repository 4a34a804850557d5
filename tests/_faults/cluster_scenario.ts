// What every cluster fault scenario starts from: its own nats-server (TCP and WebSocket on
// free loopback ports) with the event stream set up, a TCP connection for the test's client
// and its log reads, a fresh cluster and type name, the ids of the load and the config of
// its host processes.

import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { EntityClient, NatsEventLog } from "../../adapters/nats/mod.ts";
import { shardOf } from "../../adapters/nats/_shard_hash.ts";
import { uniqueTypeName } from "../../testing/mod.ts";
import { type NatsTestServer, startNatsServer } from "../_servers/nats.ts";
import { clusterCounterCommands } from "./cluster_counter.ts";
import type { CounterClient } from "./cluster_load.ts";
import type { ClusterHostConfig } from "./cluster_host.ts";

/** Shards of every scenario's cluster (the default). */
export const SHARDS = 64;
/** The lease time of every scenario's hosts, ms. */
export const LEASE_TTL = 2_000;
/** The client's deadline per command: generous, so only real guarantees are tested. */
export const CLIENT_TIMEOUT = 15_000;

/** One scenario's server, connection, client and names. */
export interface Scenario {
  readonly nats: NatsTestServer;
  readonly nc: NatsConnection;
  readonly client: CounterClient;
  readonly eventLog: NatsEventLog;
  readonly typeName: string;
  readonly ids: readonly string[];
  readonly hostConfig: Omit<ClusterHostConfig, "hostId">;
  /** One id of each shard that has any, by shard. */
  idOfShard(shard: number): string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the server and opens the connection; `entities` ids named `<name>-<i>`; hosts with
 * `leaseTtl` (default LEASE_TTL).
 */
export async function openScenario(
  name: string,
  entities: number,
  leaseTtl = LEASE_TTL,
): Promise<Scenario> {
  const nats = await startNatsServer({ own: true });
  try {
    const nc = await connect({ servers: nats.tcpUrl!, name: `test-${name}` });
    const eventLog = new NatsEventLog(nc);
    await eventLog.setup();
    const typeName = uniqueTypeName(name);
    const cluster = `${name}-${Math.random().toString(36).slice(2, 8)}`;
    const client = new EntityClient(nc, {
      cluster,
      entities: { [typeName]: clusterCounterCommands(typeName) },
      timeout: CLIENT_TIMEOUT,
    }) as unknown as CounterClient;
    const ids = Array.from({ length: entities }, (_, i) => `${name}-${i}`);
    const byShard = new Map<number, string>();
    for (const id of ids) {
      const shard = shardOf(id, SHARDS);
      if (!byShard.has(shard)) byShard.set(shard, id);
    }
    return {
      nats,
      nc,
      client,
      eventLog,
      typeName,
      ids,
      hostConfig: { url: nats.tcpUrl!, cluster, typeName, leaseTtl, shards: SHARDS },
      idOfShard: (shard) => byShard.get(shard),
      async close() {
        await eventLog.close();
        await nc.close();
        await nats.dispose();
      },
    };
  } catch (error) {
    await nats.dispose();
    throw error;
  }
}
