/**
 * {@linkcode natsPermissions}: the least nats-server permissions each role of eventsourced needs,
 * computed from the same stream, subject, bucket and cluster names the adapters use.
 *
 * @module
 */

import { assertTypeName } from "../../src/_validate.ts";
import { assertProjectionName } from "../../projection/_name_locks.ts";
import { type OptionRule, readOptions, stringOption } from "../../src/_options.ts";
import { bucketOption } from "./_kv_bucket.ts";
import {
  CLUSTER_NAME,
  clusterPrefix,
  configBucket,
  configSubject,
  HOST_ID,
  leaseBucket,
  serviceName,
} from "./_cluster_protocol.ts";
import { LOG_OPTION_RULES } from "./nats_event_log_options.ts";

/**
 * What a user does, each with the least rights it needs:
 * - `"writer"`: a `NatsEventLog` that persists and reads the events of its types, and a
 *   `NatsSnapshotStore` that loads, saves and deletes their snapshots.
 * - `"reader"`: reads events of the stream (by id, by type, live); writes nothing.
 * - `"projection"`: a reader that also reads and writes its own projections' offsets in the
 *   `NatsOffsetStore` bucket.
 * - `"cluster-host"`: an `EntityHost`: a writer of the types it hosts, plus the cluster's
 *   command subjects, lease bucket and service discovery.
 * - `"cluster-client"`: an `EntityClient`: sends commands to the cluster and reads its hosts'
 *   status; no JetStream API at all, so it cannot write or read events itself.
 *
 * Creating the stream and buckets (`setup()`, the first `EntityHost.start` of a cluster) and
 * `NatsStoreAdmin` need an owner user without restrictions.
 *
 * @example One user per role
 * ```ts
 * import { natsPermissions, type NatsRole } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const roles: NatsRole[] = ["writer", "reader", "projection"];
 * const users = roles.map((role) => ({ user: role, permissions: natsPermissions(role) }));
 * assert.equal(users.length, 3);
 * ```
 */
export type NatsRole = "writer" | "reader" | "projection" | "cluster-host" | "cluster-client";

/**
 * The names the permissions are computed from: give the same ones as to the adapters. Every
 * name has the adapters' default.
 *
 * @example Permissions of a writer of carts in the stream "shop"
 * ```ts
 * import { natsPermissions, type NatsPermissionsOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsPermissionsOptions = {
 *   stream: "shop",
 *   subjectPrefix: "shop.events",
 *   snapshotBucket: "shop-snapshots",
 *   types: ["cart"],
 * };
 * assert.ok(natsPermissions("writer", options).publish.allow.includes("shop.events.cart.*"));
 * ```
 */
export interface NatsPermissionsOptions {
  /** The event log's stream (`NatsEventLogOptions.stream`); default `"eventsourced"`. */
  stream?: string | undefined;
  /** The event log's `subjectPrefix`; default `"eventsourced"`. */
  subjectPrefix?: string | undefined;
  /**
   * The entity types a writer or host may write, or a client may command; default every type.
   * Reads are not narrowed by type: the get API carries the subject in its body, where
   * nats-server permissions do not look, so a reader can read every subject of the stream.
   */
  types?: readonly string[] | undefined;
  /**
   * The `NatsSnapshotStore` bucket of a writer or host; default `"eventsourced-snapshots"`;
   * `null`: no snapshot store.
   */
  snapshotBucket?: string | null | undefined;
  /** The `NatsOffsetStore` bucket of a projection; default `"eventsourced_projection_offsets"`. */
  offsetBucket?: string | undefined;
  /** The projection names whose offsets a projection may read and write; default every name. */
  projections?: readonly string[] | undefined;
  /** The cluster of a `"cluster-host"` or `"cluster-client"` (required for those roles). */
  cluster?: string | undefined;
  /**
   * The `hostId` of a `"cluster-host"`: it may then write only its own presence key; default
   * any host id.
   */
  hostId?: string | undefined;
  /**
   * The inbox prefix the user's connection receives replies on (the connection option
   * `inboxPrefix`); default `"_INBOX"`. A prefix of its own per user keeps one user from
   * subscribing to another's replies.
   */
  inboxPrefix?: string | undefined;
  /** The JetStream API prefix (`jetStream.apiPrefix`); default `"$JS.API"`. */
  apiPrefix?: string | undefined;
}

/**
 * A user's `permissions` in a nats-server `authorization { users = [...] }` block. nats-server
 * reads JSON, so `JSON.stringify` of it is a valid config value.
 *
 * @example A client of the cluster "counters"
 * ```ts
 * import { natsPermissions, type NatsPermissions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const client: NatsPermissions = natsPermissions("cluster-client", { cluster: "counters" });
 * assert.deepEqual(client.subscribe.allow, ["_INBOX.>"]);
 * assert.equal(client.allow_responses, undefined);
 * ```
 */
export interface NatsPermissions {
  /** Subjects the user may publish to (requests included). */
  readonly publish: { readonly allow: readonly string[] };
  /** Subjects the user may subscribe to. */
  readonly subscribe: { readonly allow: readonly string[] };
  /** Present for hosts: they may answer any request they received, once. */
  readonly allow_responses?: true;
}

const ROLES: readonly NatsRole[] = [
  "writer",
  "reader",
  "projection",
  "cluster-host",
  "cluster-client",
];

const SUBJECT_TOKENS = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

type ReadPermissionsOptions = Required<NatsPermissionsOptions>;

function namesOption(assertName: (name: unknown) => void): OptionRule<undefined> {
  return {
    default: undefined,
    valid: (value) => {
      if (!Array.isArray(value) || value.length === 0) return false;
      if (new Set(value).size !== value.length) return false;
      try {
        value.forEach(assertName);
        return true;
      } catch {
        return false;
      }
    },
    expected: "a non-empty array of distinct names (1 to 64 characters of A-Z, a-z, 0-9, _ or -)",
  };
}

const RULES = {
  stream: LOG_OPTION_RULES.stream,
  subjectPrefix: LOG_OPTION_RULES.subjectPrefix,
  types: namesOption(assertTypeName),
  snapshotBucket: {
    ...bucketOption("eventsourced-snapshots"),
    valid: (value: unknown) =>
      value === null || bucketOption("eventsourced-snapshots").valid(value),
    expected: `null or ${bucketOption("").expected}`,
  },
  offsetBucket: bucketOption("eventsourced_projection_offsets"),
  projections: namesOption(assertProjectionName),
  cluster: stringOption(undefined, CLUSTER_NAME, '1 to 32 characters of A-Z, a-z, 0-9, "_" or "-"'),
  hostId: stringOption(undefined, HOST_ID, '1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"'),
  inboxPrefix: stringOption("_INBOX", SUBJECT_TOKENS, "subject tokens without wildcards"),
  apiPrefix: stringOption("$JS.API", SUBJECT_TOKENS, "subject tokens without wildcards"),
};

/**
 * The least permissions of `role` for the names in `options`: only the subjects the adapters of
 * that role publish and subscribe to, scoped to the given stream, buckets, cluster, types and
 * projections. No role may create, change, purge or delete a stream or bucket. Bad options
 * throw a TypeError or RangeError naming the option.
 *
 * @example A users block for nats-server
 * ```ts
 * import { natsPermissions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const reader = natsPermissions("reader");
 * assert.ok(reader.publish.allow.includes("$JS.API.DIRECT.GET.eventsourced"));
 * assert.ok(!reader.publish.allow.some((subject) => subject.startsWith("eventsourced.")));
 * const config = `authorization {
 *   users = [
 *     { user: "reports", password: "secret", permissions: ${JSON.stringify(reader)} }
 *   ]
 * }`;
 * assert.match(config, /"subscribe":\{"allow":\["_INBOX\.>"\]\}/);
 * ```
 */
export function natsPermissions(role: NatsRole, options?: NatsPermissionsOptions): NatsPermissions {
  if (!ROLES.includes(role)) {
    throw new RangeError(
      `Invalid NATS role ${JSON.stringify(role)}: expected one of ${ROLES.join(", ")}`,
    );
  }
  const read = readOptions("natsPermissions", options, RULES) as ReadPermissionsOptions;
  if ((role === "cluster-host" || role === "cluster-client") && read.cluster === undefined) {
    throw new TypeError(`natsPermissions("${role}") needs the option cluster`);
  }
  const publish: string[] = [];
  const subscribe: string[] = [`${read.inboxPrefix}.>`];
  switch (role) {
    case "reader":
      publish.push(...readEvents(read));
      break;
    case "writer":
      publish.push(...readEvents(read), ...writeEvents(read));
      break;
    case "projection":
      publish.push(...readEvents(read), ...offsets(read));
      break;
    case "cluster-host": {
      publish.push(...readEvents(read), ...writeEvents(read), ...hostCluster(read));
      subscribe.push(...hostSubscriptions(read));
      return {
        publish: { allow: publish },
        subscribe: { allow: subscribe },
        allow_responses: true,
      };
    }
    case "cluster-client":
      publish.push(...sendCommands(read));
      break;
  }
  return { publish: { allow: publish }, subscribe: { allow: subscribe } };
}

// Stream info (the adapters check the stream's settings), message gets and ordered consumers
// filtered to the log's subjects; a consumer over anything else is refused.
function readEvents(o: ReadPermissionsOptions): string[] {
  const api = o.apiPrefix;
  const s = o.stream;
  return [
    `${api}.STREAM.INFO.${s}`,
    `${api}.DIRECT.GET.${s}`,
    `${api}.STREAM.MSG.GET.${s}`,
    `${api}.CONSUMER.CREATE.${s}.*.${o.subjectPrefix}.>`,
    `${api}.CONSUMER.MSG.NEXT.${s}.*`,
    `${api}.CONSUMER.INFO.${s}.*`,
    `${api}.CONSUMER.DELETE.${s}.*`,
  ];
}

// Publishing to an entity's subject is how JetStream stores an event; snapshots are keys
// `<type>.<token>` of their bucket, read by direct get with the key in the subject.
function writeEvents(o: ReadPermissionsOptions): string[] {
  const types = o.types ?? ["*"];
  const subjects = types.map((type) => `${o.subjectPrefix}.${type}.*`);
  const b = o.snapshotBucket;
  if (b === null) return subjects;
  return [
    ...subjects,
    `${o.apiPrefix}.STREAM.INFO.KV_${b}`,
    ...types.map((type) => `${o.apiPrefix}.DIRECT.GET.KV_${b}.$KV.${b}.${type}.*`),
    ...types.map((type) => `$KV.${b}.${type}.*`),
  ];
}

// A projection's offsets are the keys `<name>` and `types.<name>` of the offset bucket.
function offsets(o: ReadPermissionsOptions): string[] {
  const b = o.offsetBucket;
  const keys = o.projections?.flatMap((name) => [name, `types.${name}`]) ?? [">"];
  return [
    `${o.apiPrefix}.STREAM.INFO.KV_${b}`,
    ...keys.map((key) => `${o.apiPrefix}.DIRECT.GET.KV_${b}.$KV.${b}.${key}`),
    ...keys.map((key) => `$KV.${b}.${key}`),
  ];
}

// A host reads the cluster's configuration, takes, renews and watches leases, and flow-controls
// the watch's push consumer; it never creates or changes the buckets. Its gets go to the
// streams' leaders (the message get API), not to direct gets.
function hostCluster(o: ReadPermissionsOptions): string[] {
  const api = o.apiPrefix;
  const config = configBucket(o.cluster!);
  const leases = leaseBucket(o.cluster!);
  const types = o.types ?? ["*"];
  return [
    `${api}.STREAM.INFO.KV_${config}`,
    `${api}.STREAM.MSG.GET.KV_${config}`,
    `${api}.STREAM.INFO.KV_${leases}`,
    `${api}.STREAM.MSG.GET.KV_${leases}`,
    `${api}.CONSUMER.CREATE.KV_${leases}.*.$KV.${leases}.>`,
    `${api}.CONSUMER.INFO.KV_${leases}.*`,
    `${api}.CONSUMER.DELETE.KV_${leases}.*`,
    `$JS.FC.KV_${leases}.>`,
    ...types.map((type) => `$KV.${leases}.shard.${type}.*`),
    `$KV.${leases}.host.${o.hostId ?? "*"}`,
  ];
}

// Command subjects of its types, the configuration subject, and service discovery.
function hostSubscriptions(o: ReadPermissionsOptions): string[] {
  const types = o.types ?? ["*"];
  const service = serviceName(o.cluster!);
  return [
    ...types.map((type) => `${clusterPrefix(o.cluster!)}.cmd.${type}.*`),
    configSubject(o.cluster!),
    "$SRV.PING",
    "$SRV.INFO",
    "$SRV.STATS",
    `$SRV.*.${service}`,
    `$SRV.*.${service}.*`,
  ];
}

// Commands go to the shard subjects of the client's types; the shard count comes from the
// configuration subject; hosts() asks the service's stats.
function sendCommands(o: ReadPermissionsOptions): string[] {
  const types = o.types ?? ["*"];
  return [
    ...types.map((type) => `${clusterPrefix(o.cluster!)}.cmd.${type}.*`),
    configSubject(o.cluster!),
    `$SRV.STATS.${serviceName(o.cluster!)}`,
  ];
}
