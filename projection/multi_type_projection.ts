/**
 * A projection over several entity types into one read model, with an offset per type stored
 * with the handler's writes.
 *
 * @module
 */

import { objectWith, readOptions, signalOption } from "../src/_options.ts";
import { functionOption } from "../src/_options.ts";
import { ProjectionError } from "./errors.ts";
import type { OffsetChange, OffsetLease } from "./offset_store.ts";
import { deadline } from "./_deadline.ts";
import { Progress } from "./_progress.ts";
import { RunControl } from "./_run_control.ts";
import { TypesCursor, type TypesLease } from "./_types_cursor.ts";
import { readTypesSettings, type TypesSettings } from "./_types_settings.ts";
import type { RunOptions, WhenCaughtUpOptions } from "./projection_options.ts";
import type {
  MultiTypeEnvelope,
  MultiTypeProjectionOptions,
  MultiTypeProjectionState,
  MultiTypeResetOptions,
} from "./multi_type_options.ts";

/**
 * A projection over several entity types, e.g. accounts and transfers into one read model. It
 * reads every type live from the offset stored for it under the projection's name, merged,
 * decodes each event with its type's codec and hands it to `handleEvent` (or a batch of them to
 * `handleBatch`) as a {@linkcode MultiTypeEnvelope}, whose `typeName` tells the event's type.
 * Each commit moves the offset of every type in the batch, in the same unit of work as the
 * handler's writes: on PostgreSQL and PGlite one transaction, so a read model in that database
 * counts every event **exactly once**, also across crashes; on the memory and NATS stores it is
 * at-least-once.
 *
 * **Ordering**: the events of each type arrive in position order (as a `Projection` of that
 * type sees them); **no order is promised across types**: an event of one type written before
 * an event of another may be handled after it. A read model that needs both (a transfer that
 * names an account) must accept them in either order.
 *
 * A failed read of any type fails the read of all; the error strategy sees it (reason
 * `"read-failed"`), and every type is read again from its offset. Everything else (error
 * strategies, `batchSize`/`batchMs`, `onLocked`, `run()`/`stop()`/signals, `whenCaughtUp()`,
 * instrumentation) is as for a `Projection`, whose name it shares: a `Projection` and a
 * `MultiTypeProjection` of the same name exclude each other.
 *
 * @example Balances from accounts and transfers
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, MultiTypeProjection } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * type AccountEvent = { deposited: number };
 * type TransferEvent = { from: string; to: string; amount: number };
 * const account = jsonBinarize<AccountEvent, unknown>();
 * const transfer = jsonBinarize<TransferEvent, unknown>();
 * const eventLog = new MemoryEventLog();
 * const balances = new Map<string, number>();
 * const add = (id: string, amount: number) => balances.set(id, (balances.get(id) ?? 0) + amount);
 *
 * const projection = new MultiTypeProjection("balances", {
 *   types: { account, transfer },
 *   eventLog,
 *   offsetStore: new MemoryOffsetStore(),
 *   handleEvent: (envelope) => {
 *     if (envelope.typeName === "account") {
 *       add(envelope.id, envelope.event.deposited);
 *     } else {
 *       add(envelope.event.from, -envelope.event.amount);
 *       add(envelope.event.to, envelope.event.amount);
 *     }
 *   },
 * });
 * await projection.run();
 * await eventLog.persist("account", "a", null, [account.eventToBytes({ deposited: 10 })]);
 * await eventLog.persist("transfer", "t1", null, [
 *   transfer.eventToBytes({ from: "a", to: "b", amount: 4 }),
 * ]);
 * await projection.whenCaughtUp();
 * assert.equal(balances.get("a"), 6);
 * assert.equal(balances.get("b"), 4);
 * assert.deepEqual(projection.state().offsets, { account: 1, transfer: 1 });
 * await projection.stop();
 * ```
 */
export class MultiTypeProjection<Events extends object, Tx = undefined> {
  /** The projection's name, under which its offsets are stored. */
  readonly name: string;
  /** The entity types whose events are projected. */
  readonly typeNames: readonly (keyof Events & string)[];
  readonly #settings: TypesSettings<Events, Tx>;
  readonly #progress: Progress;
  readonly #control: RunControl<MultiTypeEnvelope<Events>, Tx, ReadonlyMap<string, number>>;

  /**
   * Defines the projection `name` over the types of `options.types`; nothing runs until
   * {@linkcode MultiTypeProjection.run}. Throws a TypeError or RangeError for a bad name, a bad
   * type name, an unknown option, a bad option value, or an offset store without offsets per
   * type.
   */
  constructor(name: string, options: MultiTypeProjectionOptions<Events, Tx>) {
    const settings = readTypesSettings<Events, Tx>(name, options);
    this.#settings = settings;
    this.name = settings.name;
    this.typeNames = settings.typeNames;
    const progress = new Progress(this.name, settings.onError);
    this.#progress = progress;
    this.#control = new RunControl(settings, progress, {
      load: (lease, signal) => typesLease(lease).loadTypes(this.typeNames, { signal }),
      begin: (lease, offsets) => {
        progress.typeOffsets = new Map(offsets);
        return new TypesCursor(settings.eventLog, this.typeNames, typesLease(lease), progress);
      },
    });
  }

  /** The projection's progress now. */
  state(): MultiTypeProjectionState<keyof Events & string> {
    const progress = this.#progress;
    return {
      name: this.name,
      running: this.#control.running,
      offsets: progress.typeOffsets === null ? null : Object.fromEntries(
        this.typeNames.map((typeName) => [typeName, progress.typePosition(typeName)]),
      ) as Record<keyof Events & string, number>,
      lastError: progress.lastError,
      skipped: progress.skipped,
      retries: progress.retries,
    };
  }

  /**
   * Starts the loop, unless it runs already; resolves once the projection holds its name and
   * has loaded its offsets. Rejects as `Projection.run` does (reasons `"locked"`,
   * `"store-failed"`, `"timeout"`, or the signal's reason).
   */
  run(options?: RunOptions): Promise<MultiTypeProjectionState<keyof Events & string>> {
    let signal: AbortSignal | undefined;
    try {
      ({ signal } = readOptions<RunOptions>("MultiTypeProjection.run", options, {
        signal: signalOption(),
      }));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#control.run(signal).then(() => this.state());
  }

  /**
   * Stops the loop at once, as `Projection.stop` does; resolves with the final state when the
   * loop has ended.
   */
  async stop(): Promise<MultiTypeProjectionState<keyof Events & string>> {
    await this.#control.stop();
    return this.state();
  }

  /** Resolves with the final state when the current loop ends (at once when none runs). */
  async whenStopped(): Promise<MultiTypeProjectionState<keyof Events & string>> {
    await this.#control.whenStopped();
    return this.state();
  }

  /**
   * Resolves once every event of every type written before the call has been processed
   * (committed or skipped). Rejects with a `ProjectionError`: reason `"not-running"` when no
   * loop runs, `"stopped"` when the loop ends first. It reads each type's events after its
   * offset once to learn where "everything written" ends.
   */
  async whenCaughtUp(
    options?: WhenCaughtUpOptions,
  ): Promise<MultiTypeProjectionState<keyof Events & string>> {
    const { signal } = readOptions<WhenCaughtUpOptions>(
      "MultiTypeProjection.whenCaughtUp",
      options,
      { signal: signalOption() },
    );
    const run = this.#control.current;
    if (run === undefined || run.stopping) {
      throw new ProjectionError(
        `Cannot wait for projection "${this.name}" to catch up: it is not running`,
        { projection: this.name, reason: "not-running" },
      );
    }
    await run.started;
    const progress = this.#progress;
    const reading = deadline([signal, run.abort.signal]);
    const heads = new Map<string, number>();
    try {
      for (const typeName of this.typeNames) {
        const from = progress.typePosition(typeName);
        heads.set(typeName, await this.#headPosition(typeName, from, reading.signal));
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (run.abort.signal.aborted) throw progress.stoppedError(describeHeads(heads));
      throw error;
    } finally {
      reading.dispose();
    }
    await progress.waitUntil(
      () => [...heads].every(([typeName, head]) => progress.typePosition(typeName) >= head),
      () => describeHeads(heads),
      () => run.running && !run.stopping,
      signal,
    );
    return this.state();
  }

  /**
   * Sets the stored offsets of a stopped projection: those of `options.to` (types left out
   * keep theirs), or every type's to 0 (from the start) when it is not given, so the next
   * `run()` handles the events after them again. `options.clear` runs in the same unit of work
   * (e.g. to empty the read model). Takes the name for the change: rejects with reason
   * `"locked"` while another runner holds it, `"running"` while this object runs.
   */
  async reset(options?: MultiTypeResetOptions<Tx, keyof Events & string>): Promise<void> {
    const { to, clear, signal } = readOptions<MultiTypeResetOptions<Tx>>(
      "MultiTypeProjection.reset",
      options,
      {
        to: objectWith(undefined, [], "an object of offsets by type name"),
        clear: functionOption(undefined),
        signal: signalOption(),
      },
    );
    for (const typeName of Object.keys(to ?? {})) {
      if (!(this.typeNames as readonly string[]).includes(typeName)) {
        throw new TypeError(
          `Invalid type name "${typeName}" in MultiTypeProjection.reset option to: expected one ` +
            `of ${this.typeNames.map((name) => `"${name}"`).join(", ")}`,
        );
      }
    }
    const targets = new Map<string, number>();
    for (const typeName of this.typeNames) {
      const position = to === undefined ? 0 : (to as Record<string, unknown>)[typeName];
      if (position === undefined) continue;
      if (typeof position !== "number" || !Number.isSafeInteger(position) || position < 0) {
        throw new RangeError(
          `Invalid position ${String(position)} of "${typeName}": expected an integer ≥ 0`,
        );
      }
      targets.set(typeName, position);
    }
    if (targets.size === 0) {
      throw new RangeError(
        `Invalid MultiTypeProjection.reset option to: expected the offset of at least one type`,
      );
    }
    if (this.#control.current !== undefined) {
      throw new ProjectionError(
        `Cannot reset projection "${this.name}": it is running; stop it first`,
        { projection: this.name, reason: "running" },
      );
    }
    const held = await this.#settings.store.acquire(this.name, { wait: false, signal });
    try {
      const lease = typesLease(held);
      const stored = await lease.loadTypes(this.typeNames, signal ? { signal } : {});
      const changes = new Map<string, OffsetChange>();
      for (const [typeName, position] of targets) {
        changes.set(typeName, { from: stored.get(typeName) ?? 0, to: position });
      }
      await lease.commitTypes(changes, clear ?? (() => Promise.resolve()), { signal });
      const offsets = new Map(stored);
      for (const [typeName, position] of targets) offsets.set(typeName, position);
      this.#progress.typeOffsets = offsets;
    } finally {
      await held.release();
    }
  }

  /** Stops the projection; see {@linkcode MultiTypeProjection.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #headPosition(typeName: string, from: number, signal: AbortSignal): Promise<number> {
    let head = from;
    const reader = this.#settings.eventLog.eventsByType(typeName, from + 1, { signal })
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

// The lease with the calls of offsets per type, or a ProjectionError ("store-failed") naming
// what the store lacks.
function typesLease<Tx>(lease: OffsetLease<Tx>): TypesLease<Tx> {
  if (typeof lease.loadTypes !== "function" || typeof lease.commitTypes !== "function") {
    throw new ProjectionError(
      `Cannot run projection "${lease.name}" over several types: its offset store's lease ` +
        `has no loadTypes and commitTypes`,
      { projection: lease.name, reason: "store-failed" },
    );
  }
  return lease as TypesLease<Tx>;
}

function describeHeads(heads: ReadonlyMap<string, number>): string {
  return [...heads].map(([typeName, head]) => `${typeName} ${head}`).join(", ");
}
