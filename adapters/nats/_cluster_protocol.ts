// The wire protocol of the entity cluster, shared by EntityHost and EntityClient: subjects,
// headers, statuses and the cluster's stored configuration. Everything that both ends must
// agree on byte for byte lives here and nowhere else.
//
// A command is a NATS request to `es.cluster.<cluster>.cmd.<type>.<shard>`; only the host that
// holds the shard's lease subscribes (queue group "owner"). Request headers: Es-Type, Es-Id
// (header-encoded), Es-Command, Es-Timeout (ms left of the caller's deadline when sent) and
// the metadata headers of the event log (Es-Command-Id, Es-Correlation-Id, Es-Causation-Id,
// Es-H-<name>); the body is the payload's codec bytes. The reply carries Es-Status and, by
// status: "ok" the reply's codec bytes, "rejected" the rejection's codec bytes, "duplicate"
// Es-Seq-No, "failed" Es-Reason (a HandleCommandFailure or NOT_OWNER) and the message as
// UTF-8 text. Es-Host names the host that answered.

import type { HandleCommandFailure } from "../../src/errors.ts";
import type { SHARD_HASH } from "./_shard_hash.ts";

/** Cluster names: they become subject tokens and parts of KV bucket names. */
export const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** The subject prefix of cluster `cluster`. */
export function clusterPrefix(cluster: string): string {
  return `es.cluster.${cluster}`;
}

/** The subject on which the owner of shard `shard` of `type` answers commands. */
export function shardSubject(cluster: string, type: string, shard: number): string {
  return `${clusterPrefix(cluster)}.cmd.${type}.${shard}`;
}

/** The queue group of shard subscriptions: during a handoff only one host gets a command. */
export const OWNER_QUEUE = "owner";

/**
 * The subject any host answers (queue group OWNER_QUEUE) with the cluster's ClusterConfig as
 * JSON, so a client learns the shard count without access to the KV buckets.
 */
export function configSubject(cluster: string): string {
  return `${clusterPrefix(cluster)}.config`;
}

/** The KV bucket that holds the cluster's ClusterConfig under CONFIG_KEY (no expiry). */
export function configBucket(cluster: string): string {
  return `es-cluster-${cluster}`;
}

/** The key of the ClusterConfig in configBucket. */
export const CONFIG_KEY = "config";

/**
 * The KV bucket of leases (max_age = leaseTtl): `shard.<type>.<n>` holds a ShardLease,
 * `host.<hostId>` a HostLease.
 */
export function leaseBucket(cluster: string): string {
  return `es-cluster-${cluster}-leases`;
}

/** The lease key of shard `shard` of `type`. */
export function shardKey(type: string, shard: number): string {
  return `shard.${type}.${shard}`;
}

/** The presence key of host `hostId`. */
export function hostKey(hostId: string): string {
  return `host.${hostId}`;
}

/** Host ids: they become KV key tokens and NATS service ids. */
export const HOST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What every process of a cluster must agree on, stored once when the cluster is created. */
export interface ClusterConfig {
  /** Shards per entity type; fixed for the cluster's life. */
  readonly shards: number;
  /** The hash from an id to a shard: SHARD_HASH. */
  readonly hash: typeof SHARD_HASH;
  /** Milliseconds a lease lasts without renewal (the lease bucket's max_age). */
  readonly leaseTtl: number;
}

/** The value of a shard's lease key. */
export interface ShardLease {
  /** The host holding the shard. */
  readonly host: string;
}

/** The value of a host's presence key. */
export interface HostLease {
  /** The entity types the host serves. */
  readonly types: readonly string[];
}

/** Request header names. */
export const TYPE_HEADER = "Es-Type";
export const ID_HEADER = "Es-Id";
export const COMMAND_HEADER = "Es-Command";
export const TIMEOUT_HEADER = "Es-Timeout";

/** Reply header names. */
export const STATUS_HEADER = "Es-Status";
export const REASON_HEADER = "Es-Reason";
export const SEQ_NO_HEADER = "Es-Seq-No";
export const HOST_HEADER = "Es-Host";

/** Values of STATUS_HEADER. */
export type ReplyStatus = "ok" | "rejected" | "duplicate" | "failed";

/**
 * The failure reason of a host that does not (or no longer) serve the shard: its lease is
 * lost or being handed over, or it is stopping. Never reaches a caller: the client retries
 * until its deadline and then reports "unavailable".
 */
export const NOT_OWNER = "not-owner";

/** Values of REASON_HEADER. */
export type WireFailure = HandleCommandFailure | typeof NOT_OWNER;

/**
 * Failures after which the client sends the command again (same command id, after a backoff)
 * while its deadline allows: nothing was done, or the command id makes a second try safe.
 */
export const RETRIED_FAILURES: ReadonlySet<string> = new Set<WireFailure>([
  NOT_OWNER,
  "stopped",
  "mailbox-full",
  "persist-failed",
  "persist-outcome-unknown",
  "resync-failed",
]);

/** The NATS service name under which the hosts of `cluster` answer `$SRV.PING|INFO|STATS`. */
export function serviceName(cluster: string): string {
  return `eventsourced-${cluster}`;
}

/**
 * What a host reports about itself in the `data` of its `$SRV.STATS` reply (and what
 * `EntityClient.hosts()` returns).
 *
 * @example A host owning three shards of "account"
 * ```ts
 * import type { HostStatus } from "@eventsourced/eventsourced/nats";
 *
 * const status: HostStatus = {
 *   hostId: "h1",
 *   started: "2026-11-29T17:00:00.000Z",
 *   types: { account: { shards: [0, 5, 9], entities: 12 } },
 *   commands: 340,
 * };
 * ```
 */
export interface HostStatus {
  /** The host's id. */
  readonly hostId: string;
  /** When the host joined, ISO 8601. */
  readonly started: string;
  /** By entity type: the shards the host owns (ascending) and its live entities. */
  readonly types: {
    readonly [type: string]: { readonly shards: readonly number[]; readonly entities: number };
  };
  /** Commands answered since it started. */
  readonly commands: number;
}
