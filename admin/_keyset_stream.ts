// A listing read in pages by key (`after` the last key of the page before), so a store admin
// never holds more than a page of a long listing: the next page is read when the reader pulls,
// and the signal ends the stream with its reason.

/** Reads one page after `after` (`""`: from the start); fewer than `limit` items end the listing. */
export type PageReader<Item> = (after: string, signal: AbortSignal) => Promise<readonly Item[]>;

/** Streams the pages of `read`; `key` gives an item's key, `limit` the items per page. */
export function keysetStream<Item>(
  read: PageReader<Item>,
  key: (item: Item) => string,
  limit: number,
  signal: AbortSignal | undefined,
): ReadableStream<Item> {
  const inner = new AbortController();
  const stopListening = () => signal?.removeEventListener("abort", onAbort);
  const onAbort = () => inner.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let after = "";
  let ended = false;
  return new ReadableStream<Item>({
    async pull(controller) {
      try {
        signal?.throwIfAborted();
        if (ended) {
          stopListening();
          return controller.close();
        }
        const page = await read(after, inner.signal);
        signal?.throwIfAborted();
        if (page.length < limit) ended = true;
        if (page.length > 0) after = key(page[page.length - 1]!);
        for (const item of page) controller.enqueue(item);
        if (ended) {
          stopListening();
          controller.close();
        }
      } catch (error) {
        stopListening();
        controller.error(signal?.aborted ? signal.reason : error);
      }
    },
    cancel(reason) {
      stopListening();
      inner.abort(reason);
    },
  }, { highWaterMark: 0 });
}
