// A ReadableStream over an append-only array that other code extends, used by the memory
// event log: finite reads stop at the length seen at the call, live reads wait for a wake-up.
// A deleted event leaves `undefined` in its place, which readers pass over, so an index a reader
// holds never moves.
// It reads in batches (array slices), which the core's replay can take whole (_event_batches.ts).

import { batchedEventStream } from "./_event_batches.ts";
import type { PersistedEvent } from "./event_log.ts";
import { allocate } from "./_slab.ts";

/** A copy of `bytes` that nothing else holds (from the slab where that is cheaper). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = allocate(bytes.length);
  copy.set(bytes);
  return copy;
}

// Readers get events of their own whose bytes are copies: what one reader changes is never
// seen by the log or by another reader.
function copyEvent(event: PersistedEvent): PersistedEvent {
  return {
    typeName: event.typeName,
    id: event.id,
    seqNo: event.seqNo,
    position: event.position,
    bytes: copyBytes(event.bytes),
    version: event.version,
    writtenAt: event.writtenAt,
    metadata: event.metadata,
  };
}

/** Wake-ups for live readers, one set per watched key. */
export class Wakeups {
  readonly #waiters = new Set<() => void>();

  /**
   * Resolves at the next {@linkcode Wakeups.wake}; the returned `cancel` stops waiting and
   * resolves it at once.
   */
  wait(): { promise: Promise<void>; cancel: () => void } {
    let resolveWait!: () => void;
    const promise = new Promise<void>((resolve) => (resolveWait = resolve));
    this.#waiters.add(resolveWait);
    return {
      promise,
      cancel: () => {
        this.#waiters.delete(resolveWait);
        resolveWait();
      },
    };
  }

  /** Wakes every waiter. */
  wake(): void {
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }
}

/** Where an {@linkcode arrayEventStream} reads from. */
export interface ArraySource {
  /** The current array (it only grows; a deleted event's place holds `undefined`). */
  items(): readonly (PersistedEvent | undefined)[];
  /** Wake-ups fired after the array grows. */
  readonly wakeups: Wakeups;
}

// Events per batch: enough to make a read's fixed cost small, few enough to keep a batch short.
const BATCH = 1024;

/**
 * Streams `source.items()` from index `start`, ending at the length as of this call unless live;
 * `key` is what the items are ordered by (seqNo or position), for the read's head.
 */
export function arrayEventStream(
  source: ArraySource,
  start: number,
  options: { live?: boolean | undefined; signal?: AbortSignal | undefined },
  key: (event: PersistedEvent) => number,
): ReadableStream<PersistedEvent> {
  const { live = false, signal } = options;
  const end = live ? Infinity : source.items().length;
  let index = start;
  let cancelled = false;
  let cancelWait: (() => void) | undefined;
  return batchedEventStream({
    async next() {
      for (;;) {
        if (cancelled || index >= end) return null;
        const items = source.items();
        const limit = Math.min(end, items.length, index + BATCH);
        if (index < limit) {
          const batch = new Array<PersistedEvent>(limit - index);
          let length = 0;
          for (let i = index; i < limit; i++) {
            const item = items[i];
            if (item !== undefined) batch[length++] = copyEvent(item);
          }
          index = limit;
          if (length === 0) continue;
          batch.length = length;
          return batch;
        }
        const waiting = source.wakeups.wait();
        cancelWait = waiting.cancel;
        await waiting.promise;
        cancelWait = undefined;
      }
    },
    cancel() {
      cancelled = true;
      cancelWait?.();
    },
    head: () => live ? undefined : lastKey(source.items(), end, key),
  }, signal);
}

/** The key of the last event before index `end`, or `null` when there is none. */
function lastKey(
  items: readonly (PersistedEvent | undefined)[],
  end: number,
  key: (event: PersistedEvent) => number,
): number | null {
  for (let i = end - 1; i >= 0; i--) {
    const item = items[i];
    if (item !== undefined) return key(item);
  }
  return null;
}
