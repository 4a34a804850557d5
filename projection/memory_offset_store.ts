/**
 * An in-memory {@linkcode OffsetStore}.
 *
 * @module
 */

import { booleanOption, readOptions, signalOption } from "../src/_options.ts";
import type {
  AcquireOptions,
  OffsetCallOptions,
  OffsetChange,
  OffsetLease,
  OffsetStore,
} from "./offset_store.ts";
import { ProjectionError } from "./errors.ts";
import { assertProjectionName, NameLocks } from "./_name_locks.ts";
import { callSignal } from "../src/_call_options.ts";
import { exposeMemoryOffsets } from "./_memory_offset_internals.ts";
import { assertTypeChanges, assertTypeNames } from "./_type_offsets.ts";

/**
 * Offsets kept in memory, lost when the process ends. There is no transaction: the handler's
 * writes happen, then the offset moves, so a failure between the two (a handler that fails
 * half-way through a batch and is retried, a crash) hands events to the handler again:
 * **at-least-once**. Handlers must therefore be idempotent, or keep their read model in the
 * same memory (then it is rebuilt from offset 0 after a restart anyway). Names are exclusive
 * within the store instance.
 *
 * @example Keep counter totals in memory
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(2), binarize.eventToBytes(3)]);
 *
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
 * assert.equal(totals.get("a"), 5);
 * await projection.stop();
 * ```
 */
export class MemoryOffsetStore implements OffsetStore<undefined> {
  readonly #offsets = new Map<string, number>();
  readonly #typeOffsets = new Map<string, Map<string, number>>();
  readonly #locks = new NameLocks();

  static {
    exposeMemoryOffsets((store) =>
      #offsets in store
        ? {
          offsets: store.#offsets,
          typeOffsets: store.#typeOffsets,
          locks: store.#locks,
        }
        : undefined
    );
  }

  /** {@inheritDoc OffsetStore.load} */
  load(name: string, options?: OffsetCallOptions): Promise<number> {
    try {
      assertProjectionName(name);
      callSignal("MemoryOffsetStore.load", options)?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(this.#offsets.get(name) ?? 0);
  }

  /** {@inheritDoc OffsetStore.loadTypes} */
  loadTypes(
    name: string,
    typeNames: readonly string[],
    options?: OffsetCallOptions,
  ): Promise<ReadonlyMap<string, number>> {
    try {
      assertProjectionName(name);
      assertTypeNames(typeNames);
      callSignal("MemoryOffsetStore.loadTypes", options)?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(storedTypes(this.#typeOffsets.get(name), typeNames));
  }

  /** {@inheritDoc OffsetStore.acquire} */
  async acquire(name: string, options?: AcquireOptions): Promise<OffsetLease<undefined>> {
    assertProjectionName(name);
    const release = await this.#locks.acquire(
      name,
      readOptions<AcquireOptions>("MemoryOffsetStore.acquire", options, {
        wait: booleanOption(false),
        signal: signalOption(),
      }),
    );
    const offsets = this.#offsets;
    const typeOffsets = this.#typeOffsets;
    let released = false;
    return {
      name,
      load(options?: OffsetCallOptions): Promise<number> {
        try {
          callSignal("OffsetLease.load", options)?.throwIfAborted();
        } catch (error) {
          return Promise.reject(error);
        }
        return Promise.resolve(offsets.get(name) ?? 0);
      },
      async commit(
        change: OffsetChange,
        work: (tx: undefined) => Promise<void>,
        options?: OffsetCallOptions,
      ): Promise<void> {
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        // Without a transaction, a unit of work can only be refused before it begins.
        callSignal("OffsetLease.commit", options)?.throwIfAborted();
        const stored = offsets.get(name) ?? 0;
        if (stored !== change.from) {
          throw new ProjectionError(
            `Cannot store offset ${change.to} of projection "${name}": expected ${change.from}, found ${stored}`,
            { projection: name, reason: "offset-conflict" },
          );
        }
        await work(undefined);
        offsets.set(name, change.to);
      },
      loadTypes(
        typeNames: readonly string[],
        options?: OffsetCallOptions,
      ): Promise<ReadonlyMap<string, number>> {
        try {
          assertTypeNames(typeNames);
          callSignal("OffsetLease.loadTypes", options)?.throwIfAborted();
        } catch (error) {
          return Promise.reject(error);
        }
        return Promise.resolve(storedTypes(typeOffsets.get(name), typeNames));
      },
      async commitTypes(
        changes: ReadonlyMap<string, OffsetChange>,
        work: (tx: undefined) => Promise<void>,
        options?: OffsetCallOptions,
      ): Promise<void> {
        if (released) throw new Error(`Cannot commit: the lease of "${name}" was released`);
        assertTypeChanges(changes);
        callSignal("OffsetLease.commitTypes", options)?.throwIfAborted();
        const stored = typeOffsets.get(name);
        for (const [typeName, change] of changes) {
          const found = stored?.get(typeName) ?? 0;
          if (found !== change.from) {
            throw new ProjectionError(
              `Cannot store offset ${change.to} of type "${typeName}" of projection "${name}": expected ${change.from}, found ${found}`,
              { projection: name, reason: "offset-conflict" },
            );
          }
        }
        await work(undefined);
        let moved = typeOffsets.get(name);
        if (moved === undefined) typeOffsets.set(name, moved = new Map());
        for (const [typeName, change] of changes) moved.set(typeName, change.to);
      },
      release() {
        released = true;
        release();
        return Promise.resolve();
      },
    };
  }
}

function storedTypes(
  stored: ReadonlyMap<string, number> | undefined,
  typeNames: readonly string[],
): ReadonlyMap<string, number> {
  return new Map(typeNames.map((typeName) => [typeName, stored?.get(typeName) ?? 0]));
}
