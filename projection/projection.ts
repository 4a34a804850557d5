/**
 * A projection: a named runner that feeds the events of one entity type, decoded, to a
 * handler, from the offset it last stored, and stores the new offset with the handler's writes.
 *
 * @module
 */

import { functionOption, readOptions, signalOption } from "../src/_options.ts";
import { ProjectionError } from "./errors.ts";
import { deadline } from "./_deadline.ts";
import { Progress } from "./_progress.ts";
import { RunControl } from "./_run_control.ts";
import { TypeCursor } from "./_cursor.ts";
import { type ProjectionSettings, readProjectionSettings } from "./_settings.ts";
import type { EventEnvelope } from "../src/event_reader.ts";
import type {
  ProjectionOptions,
  ProjectionState,
  ResetOptions,
  RunOptions,
  WhenCaughtUpOptions,
} from "./projection_options.ts";

/**
 * A projection, after the Rust original's `eventsourced-projection`: it reads the events of
 * one type name live from the offset stored under its name, decodes them with the given
 * `Binarize`, hands them to `handleEvent` (or `handleBatch`) with the offset store's unit of
 * work, and stores the position of the last event in that same unit of work. On Postgres and
 * PGlite that is one transaction, so a read model in that database sees every event exactly
 * once, also across crashes; on the memory and NATS stores it is at-least-once.
 *
 * `run()` and `stop()` (or the `signal` given to `run()`) start and end the loop; a stop takes
 * effect at once, also while no event arrives. One projection object never runs two loops;
 * the offset store keeps other runners of the same name away (on Postgres across processes
 * too). `whenCaughtUp()` resolves once everything written before the call is processed.
 *
 * @example Account balances, caught up after a burst of writes
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * type Event = { deposited: number } | { withdrawn: number };
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<Event, unknown>();
 * const balances = new Map<string, number>();
 *
 * const projection = new Projection("balances", {
 *   typeName: "account",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   errorStrategy: { type: "retry", maxRetries: 5 },
 *   handleEvent: ({ id, event }) => {
 *     const change = "deposited" in event ? event.deposited : -event.withdrawn;
 *     balances.set(id, (balances.get(id) ?? 0) + change);
 *   },
 * });
 * await projection.run();
 * await eventLog.persist("account", "a", null, [binarize.eventToBytes({ deposited: 10 })]);
 * await eventLog.persist("account", "a", 1, [binarize.eventToBytes({ withdrawn: 3 })]);
 * await projection.whenCaughtUp();
 * assert.equal(balances.get("a"), 7);
 * assert.equal(projection.state().offset, 2);
 * await projection.stop();
 * assert.equal(projection.state().running, false);
 * ```
 */
export class Projection<Event, Tx = undefined> {
  /** The projection's name, under which its offset is stored. */
  readonly name: string;
  /** The entity type whose events are projected. */
  readonly typeName: string;
  readonly #settings: ProjectionSettings<Event, Tx>;
  readonly #progress: Progress;
  readonly #control: RunControl<EventEnvelope<Event>, Tx, number>;

  /**
   * Defines the projection `name`; nothing runs until {@linkcode Projection.run}. Throws a
   * TypeError or RangeError for a bad name, an unknown option or a bad option value.
   */
  constructor(name: string, options: ProjectionOptions<Event, Tx>) {
    this.#settings = readProjectionSettings(name, options);
    this.name = this.#settings.name;
    this.typeName = this.#settings.typeName;
    const progress = new Progress(this.name, this.#settings.onError);
    this.#progress = progress;
    const { eventLog, typeName } = this.#settings;
    this.#control = new RunControl(this.#settings, progress, {
      load: (lease, signal) => lease.load({ signal }),
      begin: (lease, offset) => {
        progress.offset = offset;
        return new TypeCursor(eventLog, typeName, lease, progress);
      },
    });
  }

  /** The projection's progress now. */
  state(): ProjectionState {
    const progress = this.#progress;
    return {
      name: this.name,
      running: this.#control.running,
      offset: progress.offset,
      lastError: progress.lastError,
      skipped: progress.skipped,
      retries: progress.retries,
    };
  }

  /**
   * Starts the loop, unless it runs already. Resolves once the projection holds its name and
   * has loaded its offset; rejects when it cannot: the name is held elsewhere and `onLocked` is
   * `"fail"` (reason `"locked"`), the store fails (`"store-failed"`) or does not answer within
   * `startTimeoutMs` (`"timeout"`), or `signal` aborts or `stop()` is called first. Such a
   * failure is also `state().lastError`; it goes to the caller, not to `onError`. After a stop,
   * a new `run()` waits for the old loop to end first.
   */
  run(options?: RunOptions): Promise<ProjectionState> {
    let signal: AbortSignal | undefined;
    try {
      ({ signal } = readOptions<RunOptions>("Projection.run", options, { signal: signalOption() }));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#control.run(signal).then(() => this.state());
  }

  /**
   * Stops the loop at once: no further event is handled, a unit of work in progress finishes
   * (its handler sees `context.signal` abort), the name is released. Resolves with the final
   * state when the loop has ended; does nothing when it is not running.
   */
  async stop(): Promise<ProjectionState> {
    await this.#control.stop();
    return this.state();
  }

  /** Resolves with the final state when the current loop ends (at once when none runs). */
  async whenStopped(): Promise<ProjectionState> {
    await this.#control.whenStopped();
    return this.state();
  }

  /**
   * Resolves once every event of the type written before the call has been processed
   * (committed or skipped). Rejects with a `ProjectionError`: reason `"not-running"` when no
   * loop runs, `"stopped"` when the loop ends first. To learn where "everything written"
   * ends, it reads the events after the current offset once (a finite `eventsByType`), so
   * its cost grows with how far behind the projection is.
   */
  async whenCaughtUp(options?: WhenCaughtUpOptions): Promise<ProjectionState> {
    const { signal } = readOptions<WhenCaughtUpOptions>("Projection.whenCaughtUp", options, {
      signal: signalOption(),
    });
    const run = this.#control.current;
    if (run === undefined || run.stopping) {
      throw new ProjectionError(
        `Cannot wait for projection "${this.name}" to catch up: it is not running`,
        { projection: this.name, reason: "not-running" },
      );
    }
    await run.started;
    // The read of the head ends on the caller's signal and on stop alike.
    const reading = deadline([signal, run.abort.signal]);
    let head: number;
    try {
      head = await this.#headPosition(this.#progress.position, reading.signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (run.abort.signal.aborted) throw this.#progress.stoppedError(this.#progress.position);
      throw error;
    } finally {
      reading.dispose();
    }
    await this.#progress.waitFor(head, () => run.running && !run.stopping, signal);
    return this.state();
  }

  /**
   * Sets the stored offset of a stopped projection to `position` (default 0: from the start),
   * so the next `run()` handles the events after it again, e.g. to rebuild a read model. Takes
   * the name for the change, so it rejects with reason `"locked"` while another runner holds
   * it, and with reason `"running"` while this object runs.
   */
  async reset(position = 0, options?: ResetOptions<Tx>): Promise<void> {
    if (typeof position !== "number" || !Number.isSafeInteger(position) || position < 0) {
      throw new RangeError(`Invalid position ${String(position)}: expected an integer ≥ 0`);
    }
    const { clear, signal } = readOptions<ResetOptions<Tx>>("Projection.reset", options, {
      clear: functionOption(undefined),
      signal: signalOption(),
    });
    if (this.#control.current !== undefined) {
      throw new ProjectionError(
        `Cannot reset projection "${this.name}": it is running; stop it first`,
        { projection: this.name, reason: "running" },
      );
    }
    const lease = await this.#settings.store.acquire(this.name, { wait: false, signal });
    try {
      const from = await lease.load(signal ? { signal } : {});
      await lease.commit({ from, to: position }, clear ?? (() => Promise.resolve()), { signal });
      this.#progress.offset = position;
    } finally {
      await lease.release();
    }
  }

  /** Stops the projection; see {@linkcode Projection.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #headPosition(from: number, signal: AbortSignal): Promise<number> {
    let head = from;
    const reader = this.#settings.eventLog.eventsByType(this.typeName, from + 1, { signal })
      .getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return head;
        head = value.position;
      }
    } finally {
      reader.releaseLock();
    }
  }
}
