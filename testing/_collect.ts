// Small stream helpers for the test kit.

/** Reads a stream to its end into an array. */
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

/** Reads `count` items, then cancels the stream; fails if it takes longer than `ms`. */
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

/** Settles with the promise, or rejects when `ms` pass first. */
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

/** A type name no other test uses, so one backend can be shared by all tests. */
export function uniqueTypeName(prefix = "t"): string {
  counter++;
  const random = Math.floor(Math.random() * 36 ** 6).toString(36);
  return `${prefix}-${random}-${counter}`;
}
