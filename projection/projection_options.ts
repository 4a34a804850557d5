/**
 * The options, handlers and state of a `Projection`.
 *
 * @module
 */

import type { Binarize } from "../src/binarize.ts";
import type { EventLog } from "../src/event_log.ts";
import type { EventEnvelope } from "../src/event_reader.ts";
import type { Instrumentation } from "../src/instrumentation.ts";
import type { ProjectionError } from "./errors.ts";
import type { ErrorStrategy } from "./error_strategy.ts";
import type { OffsetStore } from "./offset_store.ts";

/**
 * What a handler gets besides the events.
 *
 * @example Use the name and give up early on stop
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection, type ProjectionContext } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<string, unknown>();
 * await eventLog.persist("user", "a", null, [binarize.eventToBytes("signed-up")]);
 *
 * const seen: string[] = [];
 * const projection = new Projection("audit", {
 *   typeName: "user",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: ({ id, event }, { name, signal }: ProjectionContext<undefined>) => {
 *     signal.throwIfAborted(); // the projection is stopping: leave the event for the next run
 *     seen.push(`${name}: ${id} ${event}`);
 *   },
 * });
 * await projection.run();
 * await projection.whenCaughtUp();
 * assert.deepEqual(seen, ["audit: a signed-up"]);
 * await projection.stop();
 * ```
 */
export interface ProjectionContext<Tx> {
  /**
   * The offset store's unit of work: write the read model with it so the writes commit with
   * the offset (a `postgres` `TransactionSql`, a PGlite `Transaction`; `undefined` for stores
   * without transactions).
   */
  readonly tx: Tx;
  /** Aborts when the projection is stopped, so long work can give up early. */
  readonly signal: AbortSignal;
  /** The projection's name. */
  readonly name: string;
}

/**
 * Handles one event; throwing fails the event (see `errorStrategy`).
 *
 * @example A handler defined apart from its projection
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { type EventHandler, MemoryOffsetStore, Projection } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const totals = new Map<string, number>();
 * const addToTotal: EventHandler<number, undefined> = ({ id, event }) => {
 *   totals.set(id, (totals.get(id) ?? 0) + event);
 * };
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(2), binarize.eventToBytes(3)]);
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: addToTotal,
 * });
 * await projection.run();
 * await projection.whenCaughtUp();
 * assert.equal(totals.get("a"), 5);
 * await projection.stop();
 * ```
 */
export type EventHandler<Event, Tx> = (
  envelope: EventEnvelope<Event>,
  context: ProjectionContext<Tx>,
) => void | Promise<void>;

/**
 * Handles a batch of events in one unit of work; throwing fails the batch.
 *
 * @example Sum a batch, then write once
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { type BatchHandler, MemoryOffsetStore, Projection } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const totals = new Map<string, number>();
 * const addBatch: BatchHandler<number, undefined> = (envelopes) => {
 *   const sums = new Map<string, number>();
 *   for (const { id, event } of envelopes) sums.set(id, (sums.get(id) ?? 0) + event);
 *   for (const [id, sum] of sums) totals.set(id, (totals.get(id) ?? 0) + sum); // one write per id
 * };
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [1, 2, 3].map((n) => binarize.eventToBytes(n)));
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   batchSize: 100,
 *   handleBatch: addBatch,
 * });
 * await projection.run();
 * await projection.whenCaughtUp();
 * assert.equal(totals.get("a"), 6);
 * await projection.stop();
 * ```
 */
export type BatchHandler<Event, Tx> = (
  envelopes: readonly EventEnvelope<Event>[],
  context: ProjectionContext<Tx>,
) => void | Promise<void>;

/**
 * Options of a {@linkcode Projection}: give `handleEvent` or `handleBatch`.
 *
 * @example Batches of up to 500 events, retried three times, then skipped
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import {
 *   MemoryOffsetStore,
 *   Projection,
 *   type ProjectionOptions,
 * } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * type Event = { deposited: number } | { withdrawn: number };
 * const balances = new Map<string, number>();
 * const options: ProjectionOptions<Event, undefined> = {
 *   typeName: "account",
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize<Event, unknown>(),
 *   offsetStore: new MemoryOffsetStore(),
 *   batchSize: 500,
 *   batchMs: 50,
 *   errorStrategy: { type: "retry", maxRetries: 3, exhausted: "skip" },
 *   onLocked: "wait",
 *   startTimeoutMs: 10_000,
 *   onError: (error) => console.error(error.reason, error.cause),
 *   handleBatch: (envelopes) => {
 *     for (const { id, event } of envelopes) {
 *       const change = "deposited" in event ? event.deposited : -event.withdrawn;
 *       balances.set(id, (balances.get(id) ?? 0) + change);
 *     }
 *   },
 * };
 * const projection = new Projection("balances", options);
 * await projection.run();
 * assert.equal(projection.state().running, true);
 * await projection.stop();
 * ```
 */
export interface ProjectionOptions<Event, Tx> {
  /** The entity type whose events are projected, or its definition. */
  typeName: string | { readonly typeName: string };
  /** Where the events are read from (live, from the stored offset). */
  eventLog: EventLog;
  /**
   * Decodes the events, upcasting older versions: any codec, e.g. `jsonBinarize()` or
   * `protobufBinarize(...)`; only `eventFromBytes` and `eventVersion` are used.
   */
  binarize: Pick<Binarize<Event, unknown>, "eventFromBytes" | "eventVersion">;
  /** Where the offset is stored, and what unit of work the handler gets. */
  offsetStore: OffsetStore<Tx>;
  /** Handles each event, in position order. */
  handleEvent?: EventHandler<Event, Tx> | undefined;
  /**
   * Handles the events of a batch at once (for bulk writes). When a batch fails, its events
   * are handled again one by one (batches of one), so the error strategy applies to the
   * failing event alone.
   */
  handleBatch?: BatchHandler<Event, Tx> | undefined;
  /** What to do when an event or a read fails; default: retry with backoff, no limit. */
  errorStrategy?: ErrorStrategy | undefined;
  /**
   * Commit after at most this many events; default 1 (every event in its own unit of work).
   * Larger batches commit the offset less often, for throughput.
   */
  batchSize?: number | undefined;
  /**
   * With `batchSize` > 1: commit a batch at the latest this many ms after its first event
   * arrived, full or not. Default 0: commit what has already arrived, without waiting.
   */
  batchMs?: number | undefined;
  /**
   * When another runner holds the name: `"fail"` (default) makes `run()` reject with a
   * `ProjectionError` (reason `"locked"`); `"wait"` makes it wait until the name is free.
   */
  onLocked?: "fail" | "wait" | undefined;
  /**
   * Receives every failure (retried, skipped or stopping), as a `ProjectionError` whose
   * `cause` is the original error. Default: `console.warn`.
   */
  onError?: ((error: ProjectionError) => void) | undefined;
  /**
   * How long `run()` may take to start, in ms: to take the name (including the wait for it
   * with `onLocked: "wait"`) and load the offset. Default 30 000. When the offset store has not
   * answered by then, `run()` rejects with a `ProjectionError` (reason `"timeout"`) naming the
   * call that hung, and `state().lastError` holds it. The same bound applies to giving the name
   * back when the loop ends, so `stop()` cannot hang on it either.
   */
  startTimeoutMs?: number | undefined;
  /**
   * Hooks told of every batch (`projectionBatch`: before the handler, ended after the offset
   * commit or the failure); `openTelemetry()` of `@eventsourced/eventsourced/opentelemetry`
   * makes them spans, the projection's lag and counts. Default: none.
   */
  instrumentation?: Instrumentation | undefined;
}

/**
 * A snapshot of a projection's progress, from {@linkcode Projection.state}.
 *
 * @example Progress after skipping an event that cannot be handled
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import {
 *   MemoryOffsetStore,
 *   Projection,
 *   type ProjectionState,
 * } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [1, -1, 2].map((n) => binarize.eventToBytes(n)));
 * const projection = new Projection("positives", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   errorStrategy: { type: "skip" },
 *   onError: () => {},
 *   handleEvent: ({ event }) => {
 *     if (event < 0) throw new RangeError(`negative: ${event}`);
 *   },
 * });
 * await projection.run();
 * const state: ProjectionState = await projection.whenCaughtUp();
 * assert.equal(state.running, true);
 * assert.equal(state.offset, 3);
 * assert.equal(state.skipped, 1);
 * assert.equal(state.lastError?.position, 2);
 * await projection.stop();
 * ```
 */
export interface ProjectionState {
  /** The projection's name. */
  readonly name: string;
  /** Whether a loop holds the name and processes events. */
  readonly running: boolean;
  /**
   * The position of the last event processed (committed or skipped); `0`: none. `null` until
   * the offset was loaded in this process (by `run()` or `reset()`).
   */
  readonly offset: number | null;
  /** The latest failure, or `null`; kept after recovery until the next failure. */
  readonly lastError: ProjectionError | null;
  /** How many events were skipped by the `"skip"` strategy since this object was made. */
  readonly skipped: number;
  /** Retries in a row of the current failure; 0 when the last attempt succeeded. */
  readonly retries: number;
}

/**
 * Options of {@linkcode Projection.run}.
 *
 * @example Stop with an AbortSignal
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection, type RunOptions } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog: new MemoryEventLog(),
 *   binarize: jsonBinarize<number, number>(),
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: () => {},
 * });
 * const shutdown = new AbortController();
 * const options: RunOptions = { signal: shutdown.signal };
 * await projection.run(options);
 * shutdown.abort();
 * assert.equal((await projection.whenStopped()).running, false);
 * ```
 */
export interface RunOptions {
  /** Aborting it stops the projection, as `stop()` does. */
  signal?: AbortSignal | undefined;
}

/**
 * Options of {@linkcode Projection.whenCaughtUp}.
 *
 * @example Wait at most five seconds
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import {
 *   MemoryOffsetStore,
 *   Projection,
 *   type WhenCaughtUpOptions,
 * } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(1)]);
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: () => {},
 * });
 * await projection.run();
 * const options: WhenCaughtUpOptions = { signal: AbortSignal.timeout(5_000) };
 * assert.equal((await projection.whenCaughtUp(options)).offset, 1);
 * await projection.stop();
 * ```
 */
export interface WhenCaughtUpOptions {
  /** Gives up waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Options of {@linkcode Projection.reset}.
 *
 * @example Empty the read model and rebuild it
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection, type ResetOptions } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(2), binarize.eventToBytes(3)]);
 * const totals = new Map<string, number>();
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: ({ id, event }) => void totals.set(id, (totals.get(id) ?? 0) + event),
 * });
 * await projection.run();
 * await projection.whenCaughtUp();
 * await projection.stop();
 *
 * const options: ResetOptions<undefined> = {
 *   clear: async () => totals.clear(),
 *   signal: AbortSignal.timeout(5_000),
 * };
 * await projection.reset(0, options);
 * assert.equal(totals.size, 0);
 * await projection.run();
 * await projection.whenCaughtUp();
 * assert.equal(totals.get("a"), 5);
 * await projection.stop();
 * ```
 */
export interface ResetOptions<Tx> {
  /**
   * Runs in the same unit of work as the offset change, e.g. to empty the read model before a
   * rebuild (`tx\`delete from balances\``).
   */
  clear?: ((tx: Tx) => Promise<void>) | undefined;
  /** Gives up acquiring the name. */
  signal?: AbortSignal | undefined;
}
