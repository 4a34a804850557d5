/**
 * Small stream and timing helpers for tests.
 *
 * @module
 */

/**
 * Reads a stream to its end into an array.
 *
 * @example Collect a finite read
 * ```ts
 * import { MemoryEventLog } from "@eventsourced/eventsourced";
 * import { collect } from "@eventsourced/eventsourced/testing";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * await log.persist("counter", "a", null, [new Uint8Array([1]), new Uint8Array([2])]);
 * assert.equal((await collect(log.eventsById("counter", "a", 1))).length, 2);
 * ```
 */
export async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const items: T[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return items;
      items.push(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Reads `count` items, then cancels the stream; fails if it takes longer than `ms`.
 *
 * @example Take the first events of a live read
 * ```ts
 * import { MemoryEventLog } from "@eventsourced/eventsourced";
 * import { take } from "@eventsourced/eventsourced/testing";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * const first = take(log.eventsByType("counter", 1, { live: true }), 1);
 * await log.persist("counter", "a", null, [new Uint8Array([1])]);
 * assert.equal((await first)[0]?.seqNo, 1);
 * ```
 */
export async function take<T>(stream: ReadableStream<T>, count: number, ms = 10_000): Promise<T[]> {
  const items: T[] = [];
  const reader = stream.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms with ${items.length} of ${count} items`)),
      ms,
    );
  });
  try {
    while (items.length < count) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next.done) throw new Error(`Stream ended after ${items.length} of ${count} items`);
      items.push(next.value);
    }
    return items;
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

/**
 * Settles with the promise, or rejects when `ms` pass first.
 *
 * @example Bound a wait
 * ```ts
 * import { within } from "@eventsourced/eventsourced/testing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await within(Promise.resolve(1), 1_000, "answer"), 1);
 * await assert.rejects(within(new Promise(() => {}), 10, "never"), /never: no answer within 10 ms/);
 * ```
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

let counter = 0;

/**
 * A type name no other test uses, so one backend can be shared by all tests.
 *
 * @example Two distinct names
 * ```ts
 * import { uniqueTypeName } from "@eventsourced/eventsourced/testing";
 * import assert from "node:assert/strict";
 *
 * assert.notEqual(uniqueTypeName(), uniqueTypeName());
 * assert.match(uniqueTypeName("orders"), /^orders-[a-z0-9]+-\d+$/);
 * ```
 */
export function uniqueTypeName(prefix = "t"): string {
  counter++;
  const random = Math.floor(Math.random() * 36 ** 6).toString(36);
  return `${prefix}-${random}-${counter}`;
}
