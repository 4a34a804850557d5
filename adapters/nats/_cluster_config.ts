// The cluster's stored configuration and its lease bucket. The first host creates both; every
// later host reads the configuration and is refused when it was started with an explicit
// `shards` or `leaseTtl` that differs: shard numbers and lease times only work when every
// process agrees on them.

import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import { StorageError } from "../../src/errors.ts";
import { errorText } from "../../src/_error_text.ts";
import { type ClusterConfig, CONFIG_KEY, configBucket, leaseBucket } from "./_cluster_protocol.ts";
import { SHARD_HASH } from "./_shard_hash.ts";
import { apiCode, failureOf, storageError, STREAM_NOT_FOUND } from "./_storage_errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a starting host asks for; `undefined`: whatever the cluster has (or the default). */
export interface WantedConfig {
  readonly shards: number | undefined;
  readonly leaseTtl: number | undefined;
}

function invalid(message: string, cause?: unknown): StorageError {
  return new StorageError(
    message,
    cause === undefined
      ? { reason: "invalid-configuration" }
      : { reason: "invalid-configuration", cause },
  );
}

/** Parses stored config bytes; throws a StorageError "corrupt-data" for anything else. */
export function parseClusterConfig(cluster: string, bytes: Uint8Array): ClusterConfig {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    value = cause;
  }
  const config = value as Partial<ClusterConfig> | null;
  if (
    typeof config !== "object" || config === null || !Number.isSafeInteger(config.shards) ||
    config.shards! < 1 || !Number.isSafeInteger(config.leaseTtl) || config.leaseTtl! < 1 ||
    typeof config.hash !== "string"
  ) {
    throw new StorageError(
      `The stored configuration of cluster "${cluster}" is not one a host wrote: ${
        decoder.decode(bytes).slice(0, 200)
      }`,
      { reason: "corrupt-data" },
    );
  }
  return { shards: config.shards!, hash: config.hash, leaseTtl: config.leaseTtl! };
}

/**
 * The cluster's configuration: created from `wanted` (defaults filled in) when the cluster is
 * new, else the stored one, refused (StorageError "invalid-configuration" naming both values)
 * when its hash is not SHARD_HASH or an explicitly wanted value differs.
 */
export async function agreeClusterConfig(
  js: JetStreamClient,
  cluster: string,
  wanted: WantedConfig,
  defaults: { readonly shards: number; readonly leaseTtl: number },
): Promise<ClusterConfig> {
  const bucket = configBucket(cluster);
  let kv: KV;
  try {
    kv = await openOrCreate(js, bucket, { history: 1, storage: "file" });
  } catch (error) {
    throw storageError(`Cannot set up the KV bucket "${bucket}"`, error, "read");
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const entry = await readConfig(kv, bucket);
    if (entry !== null && entry.operation === "PUT") {
      return checkStored(cluster, parseClusterConfig(cluster, entry.value), wanted);
    }
    const config: ClusterConfig = {
      shards: wanted.shards ?? defaults.shards,
      hash: SHARD_HASH,
      leaseTtl: wanted.leaseTtl ?? defaults.leaseTtl,
    };
    try {
      await kv.create(CONFIG_KEY, encoder.encode(JSON.stringify(config)));
      return config;
    } catch {
      // Another host created it meanwhile: read theirs.
    }
  }
  throw invalid(`Cannot agree on the configuration of cluster "${cluster}": it keeps changing`);
}

// A read of the config that gets no answer in time is asked again, twice: a bucket that several
// hosts have just created can leave the first direct get of a loaded server unanswered. The
// last failure is a StorageError naming the bucket.
async function readConfig(kv: KV, bucket: string) {
  for (let attempt = 1;; attempt++) {
    try {
      return await kv.get(CONFIG_KEY);
    } catch (error) {
      if (attempt < 3 && failureOf(error, "read") === "timeout") continue;
      throw storageError(`Cannot read the configuration in KV bucket "${bucket}"`, error, "read");
    }
  }
}

function checkStored(cluster: string, stored: ClusterConfig, wanted: WantedConfig): ClusterConfig {
  if (stored.hash !== SHARD_HASH) {
    throw invalid(
      `Cluster "${cluster}" uses the shard hash "${stored.hash}", this host only knows "${SHARD_HASH}"`,
    );
  }
  for (const key of ["shards", "leaseTtl"] as const) {
    const value = wanted[key];
    if (value !== undefined && value !== stored[key]) {
      throw invalid(
        `Cannot join cluster "${cluster}" with ${key} ${value}: the cluster was created with ${key} ${
          stored[key]
        } (leave ${key} out to use the cluster's)`,
      );
    }
  }
  return stored;
}

/**
 * The cluster's lease bucket (max_age = leaseTtl, one value per key), created when missing;
 * an existing bucket with another max_age is refused.
 */
export async function openLeaseBucket(
  js: JetStreamClient,
  cluster: string,
  leaseTtl: number,
): Promise<KV> {
  const bucket = leaseBucket(cluster);
  let kv: KV;
  let maxAge: number;
  try {
    kv = await openOrCreate(js, bucket, { history: 1, storage: "file", ttl: leaseTtl });
    maxAge = (await kv.status()).ttl;
  } catch (error) {
    throw storageError(`Cannot set up the KV bucket "${bucket}"`, error, "read");
  }
  if (maxAge !== leaseTtl) {
    throw invalid(
      `The lease bucket "${bucket}" has max_age ${maxAge} ms, cluster "${cluster}" has leaseTtl ${leaseTtl} ms`,
    );
  }
  return kv;
}

// Binds to the bucket when its stream exists, else creates it with `options`.
async function openOrCreate(
  js: JetStreamClient,
  bucket: string,
  options: Partial<KvOptions>,
): Promise<KV> {
  const jsm = await js.jetstreamManager(false);
  let exists = true;
  try {
    await jsm.streams.info(`KV_${bucket}`);
  } catch (error) {
    if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    exists = false;
  }
  const kvm = new Kvm(js);
  // Reads go through the stream's leader, not direct gets: a direct get sent right after
  // another host created the bucket can go unanswered.
  const bind = { allow_direct: false } as Partial<KvOptions>;
  if (exists) return await kvm.open(bucket, bind);
  try {
    await kvm.create(bucket, options);
    return await kvm.open(bucket, bind);
  } catch (error) {
    // Created by another host at the same moment with other settings: bind to theirs.
    try {
      return await kvm.open(bucket, bind);
    } catch {
      throw new Error(`Cannot create the KV bucket "${bucket}": ${errorText(error)}`, {
        cause: error,
      });
    }
  }
}
