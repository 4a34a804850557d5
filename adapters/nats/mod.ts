/**
 * NATS JetStream storage for eventsourced: {@linkcode NatsEventLog} keeps events in a stream
 * (one subject per entity, concurrency checked by JetStream), {@linkcode NatsSnapshotStore}
 * keeps snapshots in a KV bucket. Both run over WebSocket (`wsconnect` from
 * `@nats-io/nats-core`), so they work in Deno, Bun, Node, browsers and edge functions; a TCP
 * connection from `@nats-io/transport-node` works too. Needs nats-server 2.9 or later with
 * JetStream. On Node 20 run `node --experimental-websocket` (or pass `wsFactory`).
 *
 * @example A counter on NATS
 * ```ts ignore
 * import { emitAndReply, jsonBinarize, spawn } from "@eventsourced/eventsourced";
 * import { NatsEventLog, NatsSnapshotStore } from "@eventsourced/eventsourced/nats";
 *
 * const eventLog = await NatsEventLog.connect({ servers: "ws://127.0.0.1:8080" });
 * const snapshotStore = new NatsSnapshotStore(eventLog.connection);
 * await eventLog.setup();
 * await snapshotStore.setup();
 *
 * const counter = { typeName: "counter", initialState: 0, handleEvent: (n: number, by: number) => n + by };
 * const ref = await spawn(counter, "c1", {
 *   eventLog,
 *   snapshotStore,
 *   snapshotAfter: 100,
 *   binarize: jsonBinarize<number, number>(),
 * });
 * console.log(await ref.handleCommand({ handleCommand: () => emitAndReply(1, (n: number) => n) }));
 * await ref.stop();
 * await eventLog.close();
 * ```
 *
 * @module
 */

export type {
  NatsEventLogConnectOptions,
  NatsEventLogOptions,
  NatsEventLogSetupOptions,
} from "./nats_event_log_options.ts";
export type {
  NatsSnapshotStoreConnectOptions,
  NatsSnapshotStoreOptions,
  NatsSnapshotStoreSetupOptions,
} from "./nats_snapshot_store.ts";
export type { NatsConnectOptions } from "./connect_options.ts";

export { NatsEventLog } from "./nats_event_log.ts";
export { NatsSnapshotStore } from "./nats_snapshot_store.ts";
export { decodeToken, encodeToken } from "./token.ts";

// The projection offset store of this backend (the projections are in `./projection`).
export type { NatsOffsetStoreOptions, NatsOffsetStoreSetupOptions } from "./nats_offset_store.ts";
export { NatsOffsetStore } from "./nats_offset_store.ts";

// The entity cluster: clients send commands by name to the host that owns the entity.
export type {
  ClientCommandSet,
  ClientCommandSets,
  EntityClientOptions,
  HostsOptions,
  SendOptions,
  SendResult,
  UntypedCommandSets,
} from "./entity_client.ts";
export type { HostStatus } from "./_cluster_protocol.ts";
export { EntityClient } from "./entity_client.ts";

// The entity cluster's host (the client is `EntityClient`).
export type {
  EntityHostOptions,
  EntityHostStopOptions,
  HostedEntity,
} from "./entity_host_options.ts";
export { hostedEntity } from "./entity_host_options.ts";
export { EntityHost } from "./entity_host.ts";

// The store admin of this backend (see `./admin`).
export type { NatsStoreAdminOptions } from "./nats_store_admin.ts";
export { NatsStoreAdmin } from "./nats_store_admin.ts";

// The key store of crypto-shredding on this backend (see `./shredding`).
export type {
  NatsKeyStoreConnectOptions,
  NatsKeyStoreOptions,
  NatsKeyStoreSetupOptions,
} from "./nats_key_store.ts";
export { NatsKeyStore } from "./nats_key_store.ts";

// The least nats-server permissions of each role (writer, reader, projection, cluster roles).
export type { NatsPermissions, NatsPermissionsOptions, NatsRole } from "./permissions.ts";
export { natsPermissions } from "./permissions.ts";
