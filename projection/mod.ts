/**
 * Projections, the read side: a {@linkcode Projection} consumes the events of one entity type
 * live from the offset it last stored, decodes them with any `Binarize`, and feeds them to a
 * handler that writes a read model. A {@linkcode MultiTypeProjection} does the same for several
 * types into one read model (accounts and transfers), with an offset per type, all committed
 * together with the handler's writes; the events of each type arrive in position order, but
 * **no order is promised across types**. Offsets live in an {@linkcode OffsetStore}:
 *
 * - {@linkcode MemoryOffsetStore} (here): in memory, at-least-once;
 * - `PostgresOffsetStore` (from `@eventsourced/eventsourced/postgres`) and `PgliteOffsetStore`
 *   (from `@eventsourced/eventsourced/pglite`): the handler gets the transaction that also
 *   stores the offset, exactly-once for read models in that database; on Postgres one runner
 *   holds a name at a time across processes (an advisory lock);
 * - `NatsOffsetStore` (from `@eventsourced/eventsourced/nats`): a NATS KV bucket,
 *   at-least-once.
 *
 * The guarantees are the same for projections over several types: exactly-once on PostgreSQL
 * and PGlite (their offsets per type live in the table `type_offsets`, moved in the handler's
 * transaction), at-least-once on the memory and NATS stores. A `Projection` and a
 * `MultiTypeProjection` of the same name exclude each other.
 *
 * Failures follow an {@linkcode ErrorStrategy}: retry with backoff (optionally limited), skip
 * (reported and counted), or stop. `run()` / `stop()` / an `AbortSignal` control the loop;
 * `state()` tells the offset, whether it runs, the last error and the skipped count;
 * `whenCaughtUp()` waits until everything written before the call is processed; `reset()`
 * rewinds a stopped projection; `batchSize` / `batchMs` commit in batches.
 *
 * @example Counter totals, rebuilt after a reset
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * for (const id of ["a", "b", "a"]) {
 *   const last = await eventLog.lastSeqNo("counter", id);
 *   await eventLog.persist("counter", id, last, [binarize.eventToBytes(1)]);
 * }
 *
 * let total = 0;
 * const projection = new Projection("total", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   batchSize: 100,
 *   handleBatch: (envelopes) => {
 *     for (const { event } of envelopes) total += event;
 *   },
 * });
 * await projection.run();
 * await projection.whenCaughtUp();
 * assert.equal(total, 3);
 *
 * await projection.stop();
 * await projection.reset(0, { clear: async () => void (total = 0) });
 * await projection.run();
 * await projection.whenCaughtUp();
 * assert.equal(total, 3);
 * await projection.stop();
 * ```
 *
 * @module
 */

export type {
  BatchHandler,
  EventHandler,
  ProjectionContext,
  ProjectionOptions,
  ProjectionState,
  ResetOptions,
  RunOptions,
  WhenCaughtUpOptions,
} from "./projection_options.ts";
export type {
  AcquireOptions,
  OffsetCallOptions,
  OffsetChange,
  OffsetLease,
  OffsetStore,
} from "./offset_store.ts";
export type {
  EventCodecs,
  MultiTypeBatchHandler,
  MultiTypeEnvelope,
  MultiTypeEventHandler,
  MultiTypeProjectionOptions,
  MultiTypeProjectionState,
  MultiTypeResetOptions,
} from "./multi_type_options.ts";
export type { ErrorStrategy, RetryStrategy, SkipStrategy, StopStrategy } from "./error_strategy.ts";
export type { ProjectionErrorOptions, ProjectionFailure } from "./errors.ts";
export type { EventEnvelope } from "../src/event_reader.ts";

export { Projection } from "./projection.ts";
export { MultiTypeProjection } from "./multi_type_projection.ts";
export { MemoryOffsetStore } from "./memory_offset_store.ts";
export { isProjectionError, PROJECTION_ERROR_CODE, ProjectionError } from "./errors.ts";
