// A finite ReadableStream over items already in hand (the memory admin's listings): it ends
// with the signal's reason when the signal aborts before the reader is done.

/** Streams `items` in order; `signal` errors the stream when it aborts. */
export function arrayStream<Item>(
  items: readonly Item[],
  signal: AbortSignal | undefined,
): ReadableStream<Item> {
  let index = 0;
  return new ReadableStream<Item>({
    pull(controller) {
      if (signal?.aborted) return controller.error(signal.reason);
      if (index < items.length) controller.enqueue(items[index++]!);
      else controller.close();
    },
  }, { highWaterMark: 0 });
}
