/**
 * The options, handlers and state of a `Projection`.
 *
 * @module
 */

import type { Binarize } from "../src/binarize.ts";
import type { EventLog } from "../src/event_log.ts";
import type { EventEnvelope } from "../src/event_reader.ts";
import type { ProjectionError } from "./errors.ts";
import type { ErrorStrategy } from "./error_strategy.ts";
import type { OffsetStore } from "./offset_store.ts";

/** What a handler gets besides the events. */
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

/** Handles one event; throwing fails the event (see `errorStrategy`). */
export type EventHandler<Event, Tx> = (
  envelope: EventEnvelope<Event>,
  context: ProjectionContext<Tx>,
) => void | Promise<void>;

/** Handles a batch of events in one unit of work; throwing fails the batch. */
export type BatchHandler<Event, Tx> = (
  envelopes: readonly EventEnvelope<Event>[],
  context: ProjectionContext<Tx>,
) => void | Promise<void>;

/** Options of a {@linkcode Projection}: give `handleEvent` or `handleBatch`. */
export interface ProjectionOptions<Event, Tx> {
  /** The entity type whose events are projected, or its definition. */
  typeName: string | { readonly typeName: string };
  /** Where the events are read from (live, from the stored offset). */
  eventLog: EventLog;
  /** Decodes the events: any codec, e.g. `jsonBinarize()` or `protobufBinarize(...)`. */
  binarize: Pick<Binarize<Event, unknown>, "eventFromBytes">;
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
}

/** A snapshot of a projection's progress, from {@linkcode Projection.state}. */
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

/** Options of {@linkcode Projection.run}. */
export interface RunOptions {
  /** Aborting it stops the projection, as `stop()` does. */
  signal?: AbortSignal | undefined;
}

/** Options of {@linkcode Projection.whenCaughtUp}. */
export interface WhenCaughtUpOptions {
  /** Gives up waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Options of {@linkcode Projection.reset}. */
export interface ResetOptions<Tx> {
  /**
   * Runs in the same unit of work as the offset change, e.g. to empty the read model before a
   * rebuild (`tx\`delete from balances\``).
   */
  clear?: ((tx: Tx) => Promise<void>) | undefined;
  /** Gives up acquiring the name. */
  signal?: AbortSignal | undefined;
}
