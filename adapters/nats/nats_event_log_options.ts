/**
 * The options of `NatsEventLog`: of the log, of its `setup` and of its `connect`,
 * with the rules that read them.
 *
 * @module
 */

import type { JetStreamOptions } from "@nats-io/jetstream";
import type { ReadOptions } from "../../src/event_log.ts";
import {
  anyValue,
  booleanOption,
  integerAtLeast,
  objectWith,
  oneOf,
  type OptionRules,
  signalOption,
  stringOption,
} from "../../src/_options.ts";
import type { NatsConnectOptions } from "./connect_options.ts";
import type { Instrumentation } from "../../src/instrumentation.ts";

/**
 * Options of a `NatsEventLog`.
 *
 * @example Where an entity's events go
 * ```ts
 * import { encodeToken, type NatsEventLogOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsEventLogOptions = {
 *   stream: "shop",
 *   subjectPrefix: "shop.events",
 *   timeout: 2_000,
 * };
 * // Subscribe to these subjects with your own consumers:
 * const subject = `${options.subjectPrefix}.cart.${encodeToken("c.1")}`;
 * assert.equal(subject, "shop.events.cart.c=2E1");
 * ```
 */
export interface NatsEventLogOptions {
  /** The JetStream stream; default `"eventsourced"`. */
  stream?: string;
  /**
   * The first token(s) of every subject; default `"eventsourced"`. An entity's events go to
   * `<subjectPrefix>.<typeName>.<encodeToken(id)>`.
   */
  subjectPrefix?: string;
  /** Milliseconds each request (publish, get) may take before it fails; default 5 000. */
  timeout?: number;
  /** Messages per pull of a read; default 1 024. */
  readBatchSize?: number;
  /**
   * The largest event in bytes; a larger one is refused before anything is written
   * (`StorageError` reason `"too-large"`). Default: 4 MiB, or less when the server's
   * `max_payload` (1 MB by default) leaves less room for one event and its headers.
   */
  maxEventBytes?: number;
  /** Further JetStream options, such as `domain` or `apiPrefix`. */
  jetStream?: Omit<JetStreamOptions, "timeout">;
  /**
   * Hooks told of every persist, one message each (`persistBatch` with backend `"nats"` and
   * one write); `openTelemetry()` of `@eventsourced/eventsourced/opentelemetry` makes them
   * spans and metrics. Default: none.
   */
  instrumentation?: Instrumentation | undefined;
}

/**
 * Options of `NatsEventLog.setup`. The stream keeps every event: there are no
 * retention settings, since an expired or dropped event breaks its entity for good.
 *
 * @example Production and test streams
 * ```ts
 * import type { NatsEventLogSetupOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const production: NatsEventLogSetupOptions = { replicas: 3 };
 * const tests: NatsEventLogSetupOptions = { storage: "memory" };
 * // await eventLog.setup(process.env.CI ? tests : production);
 * assert.equal(production.storage ?? "file", "file");
 * assert.equal(tests.replicas ?? 1, 1);
 * ```
 */
export interface NatsEventLogSetupOptions {
  /** Replicas of the stream on a clustered server; default 1. */
  replicas?: number;
  /** `"file"` (default) or `"memory"` (lost when the server stops: tests only). */
  storage?: "file" | "memory";
}

/**
 * Options of `NatsEventLog.connect`: the connection's and the log's.
 *
 * @example A server that does not answer fails at connect
 * ```ts
 * import { NatsEventLog, type NatsEventLogConnectOptions } from "@eventsourced/eventsourced/nats";
 * import assert from "node:assert/strict";
 *
 * const options: NatsEventLogConnectOptions = {
 *   servers: "ws://127.0.0.1:1", // nothing listens on port 1
 *   name: "shop-api",
 *   stream: "shop",
 *   subjectPrefix: "shop.events",
 * };
 * await assert.rejects(
 *   NatsEventLog.connect(options),
 *   /Cannot connect to NATS at ws:\/\/127\.0\.0\.1:1/,
 * );
 * ```
 */
export type NatsEventLogConnectOptions = NatsConnectOptions & NatsEventLogOptions;

/** The rules of {@linkcode NatsEventLogOptions}. */
export const LOG_OPTION_RULES: OptionRules<NatsEventLogOptions> = {
  stream: stringOption(
    "eventsourced",
    /^[^\s.*>/\\]+$/,
    'a stream name (no spaces, ".", "*", ">", "/" or "\\")',
  ),
  subjectPrefix: stringOption(
    "eventsourced",
    /^[^\s.*>]+(\.[^\s.*>]+)*$/,
    "subject tokens without wildcards",
  ),
  timeout: integerAtLeast(1, 5_000),
  readBatchSize: integerAtLeast(1, 1_024),
  maxEventBytes: integerAtLeast(1, undefined),
  jetStream: {
    ...anyValue(undefined),
    valid: (value) => typeof value === "object" && value !== null,
    expected: "an object of JetStream options",
  },
  instrumentation: objectWith(undefined, [], "an Instrumentation (an object of hooks)"),
};

/** The rules of {@linkcode NatsEventLogSetupOptions}. */
export const SETUP_OPTION_RULES: OptionRules<NatsEventLogSetupOptions> = {
  replicas: integerAtLeast(1, 1),
  storage: oneOf(["file", "memory"] as const, "file"),
};

/** The rules of `ReadOptions`. */
export const READ_OPTION_RULES: OptionRules<ReadOptions> = {
  live: booleanOption(false),
  signal: signalOption(),
};
