// The KV buckets of the snapshot store and the offset store: one name rule, one way to create a
// bucket (one value per key, no expiry: a snapshot or an offset must not vanish on its own) and
// one way to bind to an existing one, with a missing bucket reported as `schema-missing`.

import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import { StorageError } from "../../src/errors.ts";
import { integerAtLeast, oneOf, type OptionRule, type OptionRules } from "../../src/_options.ts";
import { apiCode, storageError, STREAM_NOT_FOUND } from "./_storage_errors.ts";

const BUCKET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The option rule of a bucket name, with its default. */
export function bucketOption(defaultBucket: string): OptionRule<string | undefined> {
  return {
    default: defaultBucket,
    valid: (value) => typeof value === "string" && BUCKET_NAME.test(value),
    expected: '1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"',
  };
}

/** How a missing bucket is created. */
export interface BucketSetupOptions {
  /** Replicas of the bucket's stream on a clustered server; default 1. */
  replicas?: number;
  /** `"file"` (default) or `"memory"`. */
  storage?: "file" | "memory";
}

/** The rules of {@linkcode BucketSetupOptions}, for `readOptions`. */
export const BUCKET_SETUP_RULES: OptionRules<BucketSetupOptions> = {
  replicas: integerAtLeast(1, 1),
  storage: oneOf(["file", "memory"] as const, "file"),
};

/** Creates `bucket` if it is missing (one value per key, no expiry); an existing one stays. */
export async function createBucket(
  js: JetStreamClient,
  bucket: string,
  options: Required<BucketSetupOptions>,
): Promise<void> {
  try {
    const jsm = await js.jetstreamManager(false);
    try {
      await jsm.streams.info(`KV_${bucket}`);
      return;
    } catch (error) {
      if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    }
    const kvOptions = {
      history: 1,
      replicas: options.replicas,
      storage: options.storage,
    } as Partial<KvOptions>;
    await new Kvm(js).create(bucket, kvOptions);
  } catch (error) {
    throw storageError(`Cannot set up the KV bucket "${bucket}"`, error, "read");
  }
}

/** Binds to the existing `bucket`; a missing one is `schema-missing` ("call setup() first"). */
export async function openBucket(js: JetStreamClient, bucket: string): Promise<KV> {
  let allowDirect: boolean;
  try {
    const jsm = await js.jetstreamManager(false);
    allowDirect = (await jsm.streams.info(`KV_${bucket}`)).config.allow_direct === true;
  } catch (error) {
    if (apiCode(error) === STREAM_NOT_FOUND) {
      throw new StorageError(`The KV bucket "${bucket}" does not exist (call setup() first)`, {
        reason: "schema-missing",
        cause: error,
      });
    }
    throw storageError(`Cannot open the KV bucket "${bucket}"`, error, "read");
  }
  return await new Kvm(js).open(bucket, { allow_direct: allowDirect } as Partial<KvOptions>);
}

/**
 * A bucket bound once and again after a failure, so a bucket created after the first call, or a
 * server that comes back, is found.
 */
export class BucketHandle {
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  #kv: Promise<KV> | undefined;

  constructor(js: JetStreamClient, bucket: string) {
    this.#js = js;
    this.#bucket = bucket;
  }

  /** The bound bucket. */
  open(): Promise<KV> {
    if (this.#kv === undefined) {
      const kv = openBucket(this.#js, this.#bucket);
      this.#kv = kv;
      kv.catch(() => (this.#kv = undefined));
    }
    return this.#kv;
  }
}
