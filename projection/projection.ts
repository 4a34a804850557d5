/**
 * A projection: a named runner that feeds the events of one entity type, decoded, to a
 * handler, from the offset it last stored, and stores the new offset with the handler's writes.
 *
 * @module
 */

import type { EventLog, PersistedEvent } from "../src/event_log.ts";
import { EventReader } from "../src/event_reader.ts";
import { isProjectionError, ProjectionError } from "./errors.ts";
import { backoffDelay, type ResolvedStrategy, resolveStrategy } from "./error_strategy.ts";
import type { OffsetLease, OffsetStore } from "./offset_store.ts";
import { BatchReader } from "./_batch_reader.ts";
import { assertProjectionName, sleep } from "./_name_locks.ts";
import type {
  BatchHandler,
  EventHandler,
  ProjectionContext,
  ProjectionOptions,
  ProjectionState,
  ResetOptions,
  RunOptions,
  WhenCaughtUpOptions,
} from "./projection_options.ts";

interface Run {
  readonly abort: AbortController;
  running: boolean;
  stopping: boolean;
  started: Promise<void>;
  done: Promise<void>;
}

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = "ok" | "stop";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function reportToConsole(error: ProjectionError): void {
  console.warn(error);
}

function assertCount(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Invalid ${name} ${String(value)}: expected an integer ≥ ${min}`);
  }
  return value;
}

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
  readonly #eventLog: EventLog;
  readonly #reader: EventReader<Event>;
  readonly #store: OffsetStore<Tx>;
  readonly #handleEvent: EventHandler<Event, Tx> | undefined;
  readonly #handleBatch: BatchHandler<Event, Tx> | undefined;
  readonly #strategy: ResolvedStrategy;
  readonly #batchSize: number;
  readonly #batchMs: number;
  readonly #wait: boolean;
  readonly #onError: (error: ProjectionError) => void;

  #run: Run | undefined;
  #previous: Promise<void> = Promise.resolve();
  #offset: number | null = null;
  #lastError: ProjectionError | null = null;
  #skipped = 0;
  #retries = 0;
  readonly #waiters = new Set<Waiter>();

  /** Defines the projection `name`; nothing runs until {@linkcode Projection.run}. */
  constructor(name: string, options: ProjectionOptions<Event, Tx>) {
    assertProjectionName(name);
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Invalid options: expected an object");
    }
    const { handleEvent, handleBatch } = options;
    if ((handleEvent === undefined) === (handleBatch === undefined)) {
      throw new TypeError("Invalid options: give exactly one of handleEvent and handleBatch");
    }
    for (const [key, value] of [["handleEvent", handleEvent], ["handleBatch", handleBatch]]) {
      if (value !== undefined && typeof value !== "function") {
        throw new TypeError(`Invalid ${key}: expected a function`);
      }
    }
    const store = options.offsetStore;
    if (typeof store?.acquire !== "function" || typeof store.load !== "function") {
      throw new TypeError("Invalid offsetStore: expected an OffsetStore (load and acquire)");
    }
    if (typeof options.eventLog?.eventsByType !== "function") {
      throw new TypeError("Invalid eventLog: eventsByType is not a function");
    }
    if (
      options.onLocked !== undefined && options.onLocked !== "fail" && options.onLocked !== "wait"
    ) {
      throw new TypeError(
        `Invalid onLocked ${JSON.stringify(options.onLocked)}: expected "fail" or "wait"`,
      );
    }
    this.#reader = new EventReader(options.typeName, {
      eventLog: options.eventLog,
      binarize: options.binarize,
    });
    this.name = name;
    this.typeName = this.#reader.typeName;
    this.#eventLog = options.eventLog;
    this.#store = store;
    this.#handleEvent = handleEvent;
    this.#handleBatch = handleBatch;
    this.#strategy = resolveStrategy(options.errorStrategy);
    this.#batchSize = assertCount(options.batchSize ?? 1, "batchSize", 1);
    this.#batchMs = assertCount(options.batchMs ?? 0, "batchMs", 0);
    this.#wait = options.onLocked === "wait";
    this.#onError = options.onError ?? reportToConsole;
  }

  /** The projection's progress now. */
  state(): ProjectionState {
    return {
      name: this.name,
      running: this.#run?.running ?? false,
      offset: this.#offset,
      lastError: this.#lastError,
      skipped: this.#skipped,
      retries: this.#retries,
    };
  }

  /**
   * Starts the loop, unless it runs already. Resolves once the projection holds its name and
   * has loaded its offset; rejects when it cannot (the name is held elsewhere and `onLocked`
   * is `"fail"`, the store fails, or `signal` aborts first). After a stop, a new `run()` waits
   * for the old loop to end first.
   */
  run(options: RunOptions = {}): Promise<ProjectionState> {
    const current = this.#run;
    if (current !== undefined && !current.stopping) {
      return current.started.then(() => this.state());
    }
    const abort = new AbortController();
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const run: Run = {
      abort,
      running: false,
      stopping: false,
      started: Promise.resolve(),
      done: Promise.resolve(),
    };
    const onAbort = () => this.#abort(run, signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let resolveStarted!: () => void;
    let rejectStarted!: (error: unknown) => void;
    run.started = new Promise((resolve, reject) => {
      resolveStarted = resolve;
      rejectStarted = reject;
    });
    run.started.catch(() => {});
    this.#run = run;
    run.done = this.#main(run, resolveStarted, rejectStarted)
      .catch((error) => {
        // Not expected (the loop reports its failures itself); keep stop() and run() working.
        rejectStarted(error);
        this.#report(
          new ProjectionError(`Projection "${this.name}" failed: ${messageOf(error)}`, {
            projection: this.name,
            reason: "stopped",
            cause: error,
          }),
        );
      })
      .finally(() => {
        signal?.removeEventListener("abort", onAbort);
        if (this.#run === run) this.#run = undefined;
      });
    this.#previous = run.done;
    return run.started.then(() => this.state());
  }

  /**
   * Stops the loop at once: no further event is handled, a unit of work in progress finishes
   * (its handler sees `context.signal` abort), the name is released. Resolves with the final
   * state when the loop has ended; does nothing when it is not running.
   */
  async stop(): Promise<ProjectionState> {
    const run = this.#run;
    if (run !== undefined) {
      this.#abort(
        run,
        new ProjectionError(`Projection "${this.name}" was stopped`, {
          projection: this.name,
          reason: "stopped",
        }),
      );
    }
    await this.#previous;
    return this.state();
  }

  /** Resolves with the final state when the current loop ends (at once when none runs). */
  async whenStopped(): Promise<ProjectionState> {
    await this.#previous;
    return this.state();
  }

  /**
   * Resolves once every event of the type written before the call has been processed
   * (committed or skipped). Rejects with a `ProjectionError`: reason `"not-running"` when no
   * loop runs, `"stopped"` when the loop ends first. To learn where "everything written"
   * ends, it reads the events after the current offset once (a finite `eventsByType`), so
   * its cost grows with how far behind the projection is.
   */
  async whenCaughtUp(options: WhenCaughtUpOptions = {}): Promise<ProjectionState> {
    const run = this.#run;
    if (run === undefined || run.stopping) {
      throw new ProjectionError(
        `Cannot wait for projection "${this.name}" to catch up: it is not running`,
        { projection: this.name, reason: "not-running" },
      );
    }
    await run.started;
    const signal = options.signal;
    const head = await this.#headPosition(this.#offset ?? 0, signal);
    return await new Promise<ProjectionState>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        target: head,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.state());
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      if ((this.#offset ?? 0) >= head) return waiter.resolve();
      if (!run.running || run.stopping) return waiter.reject(this.#stoppedError(head));
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Sets the stored offset of a stopped projection to `position` (default 0: from the start),
   * so the next `run()` handles the events after it again, e.g. to rebuild a read model. Takes
   * the name for the change, so it rejects with reason `"locked"` while another runner holds
   * it, and with reason `"running"` while this object runs.
   */
  async reset(position = 0, options: ResetOptions<Tx> = {}): Promise<void> {
    assertCount(position, "position", 0);
    if (this.#run !== undefined) {
      throw new ProjectionError(
        `Cannot reset projection "${this.name}": it is running; stop it first`,
        { projection: this.name, reason: "running" },
      );
    }
    const lease = await this.#store.acquire(this.name, { wait: false, signal: options.signal });
    try {
      const from = await lease.load();
      await lease.commit({ from, to: position }, options.clear ?? (() => Promise.resolve()));
      this.#offset = position;
    } finally {
      await lease.release();
    }
  }

  /** Stops the projection; see {@linkcode Projection.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #abort(run: Run, reason: unknown): void {
    run.stopping = true;
    run.abort.abort(reason);
  }

  #report(error: ProjectionError): void {
    this.#lastError = error;
    try {
      this.#onError(error);
    } catch { /* a failing reporter must not stop the projection */ }
  }

  #stoppedError(target: number): ProjectionError {
    return new ProjectionError(
      `Projection "${this.name}" stopped at offset ${this.#offset} before reaching ${target}`,
      { projection: this.name, reason: "stopped", cause: this.#lastError ?? undefined },
    );
  }

  async #headPosition(from: number, signal: AbortSignal | undefined): Promise<number> {
    let head = from;
    const reader = this.#eventLog.eventsByType(this.typeName, from + 1, signal ? { signal } : {})
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

  #advance(offset: number): void {
    this.#offset = offset;
    this.#retries = 0;
    for (const waiter of this.#waiters) {
      if (offset >= waiter.target) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  async #main(
    run: Run,
    started: () => void,
    failed: (error: unknown) => void,
  ): Promise<void> {
    const signal = run.abort.signal;
    await this.#previous;
    let lease: OffsetLease<Tx>;
    try {
      if (signal.aborted) throw signal.reason;
      lease = await this.#store.acquire(this.name, { wait: this.#wait, signal });
    } catch (error) {
      failed(error);
      return;
    }
    try {
      if (signal.aborted) throw signal.reason;
      this.#offset = await lease.load({ signal });
    } catch (error) {
      await lease.release().catch(() => {});
      failed(
        signal.aborted ? signal.reason : new ProjectionError(
          `Cannot load the offset of projection "${this.name}": ${messageOf(error)}`,
          { projection: this.name, reason: "store-failed", cause: error },
        ),
      );
      return;
    }
    run.running = true;
    started();
    try {
      await this.#loop(lease, signal);
    } finally {
      run.running = false;
      run.stopping = true;
      await lease.release().catch(() => {});
      for (const waiter of this.#waiters) waiter.reject(this.#stoppedError(waiter.target));
      this.#waiters.clear();
    }
  }

  async #loop(lease: OffsetLease<Tx>, signal: AbortSignal): Promise<void> {
    let readFailures = 0;
    while (!signal.aborted) {
      const from = (this.#offset ?? 0) + 1;
      let batches: BatchReader | undefined;
      // Cancelling the reader ends a pending read at once, even when the event log is slow to
      // notice the signal.
      const onAbort = () => void batches?.cancel(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        batches = new BatchReader(
          this.#eventLog.eventsByType(this.typeName, from, { live: true, signal }),
          this.#batchSize,
          this.#batchMs,
        );
        for (;;) {
          const batch = await batches.next();
          if (signal.aborted) return;
          if (batch === null) throw new Error("the live read ended");
          readFailures = 0;
          if (await this.#process(lease, batch, signal) === "stop") return;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.#report(
          new ProjectionError(
            `Projection "${this.name}" cannot read events of "${this.typeName}" from position ${from}: ${
              messageOf(error)
            }`,
            { projection: this.name, reason: "read-failed", cause: error },
          ),
        );
        if (this.#strategy.type === "stop") return;
        readFailures++;
        this.#retries = readFailures;
        if (this.#strategy.type === "retry" && readFailures > this.#strategy.maxRetries) return;
        try {
          await sleep(backoffDelay(this.#strategy, readFailures), signal);
        } catch {
          return;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        await batches?.cancel(signal.reason);
      }
    }
  }

  async #process(
    lease: OffsetLease<Tx>,
    batch: readonly PersistedEvent[],
    signal: AbortSignal,
  ): Promise<Outcome> {
    if (batch.length > 1) {
      try {
        await this.#commit(lease, batch, signal);
        return "ok";
      } catch (error) {
        if (signal.aborted) return "stop";
        if (isProjectionError(error) && error.reason === "offset-conflict") {
          this.#report(error);
          return "stop";
        }
        // Handle the batch again one event at a time, to find the event that fails.
      }
    }
    for (const event of batch) {
      if (await this.#processOne(lease, event, signal) === "stop") return "stop";
    }
    return "ok";
  }

  async #processOne(
    lease: OffsetLease<Tx>,
    event: PersistedEvent,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const strategy = this.#strategy;
    let attempt = 0;
    for (;;) {
      if (signal.aborted) return "stop";
      let failure: ProjectionError;
      try {
        await this.#commit(lease, [event], signal);
        return "ok";
      } catch (error) {
        if (signal.aborted) return "stop";
        if (isProjectionError(error) && error.reason === "offset-conflict") {
          this.#report(error);
          return "stop";
        }
        failure = new ProjectionError(
          `Projection "${this.name}" failed on event "${event.typeName}/${event.id}" seqNo ${event.seqNo} at position ${event.position}: ${
            messageOf(error)
          }`,
          { projection: this.name, reason: "event-failed", position: event.position, cause: error },
        );
      }
      this.#report(failure);
      let action = strategy.type;
      if (action === "retry") {
        attempt++;
        this.#retries = attempt;
        if (attempt <= strategy.maxRetries) {
          try {
            await sleep(backoffDelay(strategy, attempt), signal);
          } catch {
            return "stop";
          }
          continue;
        }
        action = strategy.exhausted;
      }
      if (action === "stop") return "stop";
      try {
        await lease.commit(
          { from: this.#offset ?? 0, to: event.position },
          () => Promise.resolve(),
        );
      } catch (error) {
        if (signal.aborted) return "stop";
        this.#report(
          isProjectionError(error) ? error : new ProjectionError(
            `Projection "${this.name}" cannot store offset ${event.position} to skip an event: ${
              messageOf(error)
            }`,
            {
              projection: this.name,
              reason: "store-failed",
              position: event.position,
              cause: error,
            },
          ),
        );
        if (isProjectionError(error) && error.reason === "offset-conflict") return "stop";
        attempt++;
        try {
          await sleep(backoffDelay(strategy, attempt), signal);
        } catch {
          return "stop";
        }
        continue;
      }
      this.#skipped++;
      this.#advance(event.position);
      return "ok";
    }
  }

  async #commit(
    lease: OffsetLease<Tx>,
    events: readonly PersistedEvent[],
    signal: AbortSignal,
  ): Promise<void> {
    const to = events[events.length - 1]!.position;
    await lease.commit({ from: this.#offset ?? 0, to }, async (tx) => {
      const context: ProjectionContext<Tx> = { tx, signal, name: this.name };
      if (this.#handleBatch !== undefined) {
        await this.#handleBatch(events.map((event) => this.#reader.decode(event)), context);
      } else {
        const handle = this.#handleEvent!;
        for (const event of events) await handle(this.#reader.decode(event), context);
      }
    });
    this.#advance(to);
  }
}
