/**
 * The options, envelopes, handlers and state of a `MultiTypeProjection`: a projection over
 * several entity types into one read model.
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
import type { ProjectionContext, ProjectionState } from "./projection_options.ts";

/**
 * The codecs of a projection over several types, by type name: any `Binarize` (only
 * `eventFromBytes` and `eventVersion` are used).
 *
 * @example Accounts and transfers, each with its codec
 * ```ts
 * import { jsonBinarize } from "@eventsourced/eventsourced";
 * import type { EventCodecs } from "@eventsourced/eventsourced/projection";
 *
 * type Events = { account: { deposited: number }; transfer: { amount: number } };
 * const codecs: EventCodecs<Events> = {
 *   account: jsonBinarize<{ deposited: number }, unknown>(),
 *   transfer: jsonBinarize<{ amount: number }, unknown>(),
 * };
 * ```
 */
export type EventCodecs<Events> = {
  readonly [TypeName in keyof Events]: Pick<
    Binarize<Events[TypeName], unknown>,
    "eventFromBytes" | "eventVersion"
  >;
};

/**
 * A decoded event of a projection over several types: an {@linkcode EventEnvelope} with the
 * `typeName` it was written under, which tells the type of `event` (a discriminated union).
 * `position` counts within that type.
 *
 * @example Switch on the type name
 * ```ts
 * import type { MultiTypeEnvelope } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * type Events = { account: { deposited: number }; transfer: { amount: number } };
 * function cents(envelope: MultiTypeEnvelope<Events>): number {
 *   switch (envelope.typeName) {
 *     case "account":
 *       return envelope.event.deposited;
 *     case "transfer":
 *       return envelope.event.amount;
 *   }
 * }
 * const envelope: MultiTypeEnvelope<Events> = {
 *   typeName: "transfer", id: "t1", seqNo: 1, position: 1, event: { amount: 5 },
 *   version: 1, writtenAt: 0, metadata: {},
 * };
 * assert.equal(cents(envelope), 5);
 * ```
 */
export type MultiTypeEnvelope<Events> = {
  readonly [TypeName in keyof Events & string]:
    & EventEnvelope<Events[TypeName]>
    & { readonly typeName: TypeName };
}[keyof Events & string];

/**
 * Handles one event of a projection over several types; throwing fails the event.
 *
 * @example A handler defined apart from its projection
 * ```ts
 * import type { MultiTypeEventHandler } from "@eventsourced/eventsourced/projection";
 *
 * type Events = { account: { deposited: number }; transfer: { amount: number } };
 * const counts = { account: 0, transfer: 0 };
 * const count: MultiTypeEventHandler<Events, undefined> = ({ typeName }) => void counts[typeName]++;
 * ```
 */
export type MultiTypeEventHandler<Events, Tx> = (
  envelope: MultiTypeEnvelope<Events>,
  context: ProjectionContext<Tx>,
) => void | Promise<void>;

/**
 * Handles a batch of events of several types in one unit of work; throwing fails the batch.
 * Each type's events are in position order; events of different types are in no set order.
 *
 * @example Count a batch by type
 * ```ts
 * import type { MultiTypeBatchHandler } from "@eventsourced/eventsourced/projection";
 *
 * type Events = { account: { deposited: number }; transfer: { amount: number } };
 * const counts = new Map<string, number>();
 * const count: MultiTypeBatchHandler<Events, undefined> = (envelopes) => {
 *   for (const { typeName } of envelopes) counts.set(typeName, (counts.get(typeName) ?? 0) + 1);
 * };
 * ```
 */
export type MultiTypeBatchHandler<Events, Tx> = (
  envelopes: readonly MultiTypeEnvelope<Events>[],
  context: ProjectionContext<Tx>,
) => void | Promise<void>;

/**
 * Options of a {@linkcode MultiTypeProjection}: the types with their codecs, and
 * `handleEvent` or `handleBatch`; the other options are those of a `Projection`.
 *
 * @example Accounts and transfers into one read model, in batches
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import {
 *   MemoryOffsetStore,
 *   MultiTypeProjection,
 *   type MultiTypeProjectionOptions,
 * } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * type Events = { account: { opened: string }; transfer: { amount: number } };
 * const options: MultiTypeProjectionOptions<Events, undefined> = {
 *   types: {
 *     account: jsonBinarize<{ opened: string }, unknown>(),
 *     transfer: jsonBinarize<{ amount: number }, unknown>(),
 *   },
 *   eventLog: new MemoryEventLog(),
 *   offsetStore: new MemoryOffsetStore(),
 *   batchSize: 100,
 *   errorStrategy: { type: "retry", maxRetries: 3, exhausted: "stop" },
 *   handleBatch: () => {},
 * };
 * const projection = new MultiTypeProjection("ledger", options);
 * await projection.run();
 * assert.deepEqual(projection.state().offsets, { account: 0, transfer: 0 });
 * await projection.stop();
 * ```
 */
export interface MultiTypeProjectionOptions<Events, Tx> {
  /** The entity types whose events are projected, each with the codec of its events. */
  types: EventCodecs<Events>;
  /** Where the events are read from (each type live, from its stored offset). */
  eventLog: EventLog;
  /**
   * Where the offsets are stored, one per type, and what unit of work the handler gets; it
   * must keep offsets per type (`loadTypes`, `commitTypes`), as the stores of this package do.
   */
  offsetStore: OffsetStore<Tx>;
  /** Handles each event; each type's in position order, no order across types. */
  handleEvent?: MultiTypeEventHandler<Events, Tx> | undefined;
  /** Handles the events of a batch at once; a failed batch is handled again one by one. */
  handleBatch?: MultiTypeBatchHandler<Events, Tx> | undefined;
  /** As `ProjectionOptions.errorStrategy`; a failed read of any type fails the read of all. */
  errorStrategy?: ErrorStrategy | undefined;
  /** As `ProjectionOptions.batchSize`; a batch may hold events of several types. */
  batchSize?: number | undefined;
  /** As `ProjectionOptions.batchMs`. */
  batchMs?: number | undefined;
  /**
   * As `ProjectionOptions.onLocked`. The name is shared with projections over one type: a
   * `Projection` and a `MultiTypeProjection` of the same name exclude each other.
   */
  onLocked?: "fail" | "wait" | undefined;
  /** As `ProjectionOptions.onError`. */
  onError?: ((error: ProjectionError) => void) | undefined;
  /** As `ProjectionOptions.startTimeoutMs`. */
  startTimeoutMs?: number | undefined;
  /** As `ProjectionOptions.instrumentation`: one `projectionBatch` per commit. */
  instrumentation?: Instrumentation | undefined;
}

/**
 * A snapshot of the progress of a {@linkcode MultiTypeProjection}: as `ProjectionState`, with
 * an offset per type.
 *
 * @example The offset of each type after a run
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import {
 *   MemoryOffsetStore,
 *   MultiTypeProjection,
 *   type MultiTypeProjectionState,
 * } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("a", "1", null, [binarize.eventToBytes(1), binarize.eventToBytes(2)]);
 * const projection = new MultiTypeProjection("sum", {
 *   types: { a: binarize, b: binarize },
 *   eventLog,
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: () => {},
 * });
 * await projection.run();
 * const state: MultiTypeProjectionState<"a" | "b"> = await projection.whenCaughtUp();
 * assert.deepEqual(state.offsets, { a: 2, b: 0 });
 * await projection.stop();
 * ```
 */
export interface MultiTypeProjectionState<TypeName extends string = string>
  extends Omit<ProjectionState, "offset"> {
  /**
   * Each type's offset: the position of the last event of it processed (committed or
   * skipped); `0`: none. `null` until the offsets were loaded in this process.
   */
  readonly offsets: Readonly<Record<TypeName, number>> | null;
}

/**
 * Options of {@linkcode MultiTypeProjection.reset}.
 *
 * @example Rewind one type, clear the read model
 * ```ts
 * import type { MultiTypeResetOptions } from "@eventsourced/eventsourced/projection";
 *
 * const ledger = new Map<string, number>();
 * const options: MultiTypeResetOptions<undefined, "account" | "transfer"> = {
 *   to: { transfer: 0 },
 *   clear: async () => ledger.clear(),
 * };
 * ```
 */
export interface MultiTypeResetOptions<Tx, TypeName extends string = string> {
  /**
   * The offset to set per type; types left out keep theirs. Default: every type to 0 (from
   * the start).
   */
  to?: Partial<Record<TypeName, number>> | undefined;
  /** Runs in the same unit of work as the offset change, e.g. to empty the read model. */
  clear?: ((tx: Tx) => Promise<void>) | undefined;
  /** Gives up acquiring the name. */
  signal?: AbortSignal | undefined;
}
