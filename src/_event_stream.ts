// A ReadableStream over an append-only array that other code extends, used by the memory
// event log: finite reads stop at the length seen at the call, live reads wait for a wake-up.

import type { PersistedEvent } from "./event_log.ts";

/** Wake-ups for live readers, one set per watched key. */
export class Wakeups {
  readonly #waiters = new Set<() => void>();

  /** Resolves at the next {@linkcode Wakeups.wake}; the returned `cancel` stops waiting. */
  wait(): { promise: Promise<void>; cancel: () => void } {
    let resolveWait!: () => void;
    const promise = new Promise<void>((resolve) => (resolveWait = resolve));
    this.#waiters.add(resolveWait);
    return { promise, cancel: () => this.#waiters.delete(resolveWait) };
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
  /** The current array (it only grows). */
  items(): readonly PersistedEvent[];
  /** Wake-ups fired after the array grows. */
  readonly wakeups: Wakeups;
}

const HIGH_WATER_MARK = 256;

/** Streams `source.items()` from index `start`, ending at the length as of this call unless live. */
export function arrayEventStream(
  source: ArraySource,
  start: number,
  options: { live?: boolean | undefined; signal?: AbortSignal | undefined },
): ReadableStream<PersistedEvent> {
  const { live = false, signal } = options;
  const end = live ? Infinity : source.items().length;
  let index = start;
  let cancelWait: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  const release = () => {
    cancelWait?.();
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  };
  return new ReadableStream<PersistedEvent>({
    start(controller) {
      if (!signal) return;
      if (signal.aborted) {
        controller.error(signal.reason);
        return;
      }
      onAbort = () => {
        release();
        try {
          controller.error(signal.reason);
        } catch { /* already closed */ }
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      for (;;) {
        const items = source.items();
        const limit = Math.min(end, items.length);
        if (index < limit) {
          do controller.enqueue(items[index++]!); while (
            index < limit && (controller.desiredSize ?? 0) > 0
          );
        }
        if (index >= end) {
          release();
          controller.close();
          return;
        }
        if (index < limit) return;
        const { promise, cancel } = source.wakeups.wait();
        cancelWait = cancel;
        await promise;
        cancelWait = undefined;
        if (signal?.aborted) return;
      }
    },
    cancel() {
      release();
    },
  }, { highWaterMark: HIGH_WATER_MARK });
}
