// Reads as streams of pages: each pull runs one short keyset query (`key >= next order by key
// limit n`), so a slow consumer holds no connection and no server-side cursor between pages,
// and backpressure is the stream's own: after a full page the next one is fetched ahead, one
// page at most, so the database works while the consumer handles the page before. A finite read
// learns the head in the same statement as its first page and stops there; a live read waits
// for a wake-up (a local append, a notification, or the poll interval) when it has caught up.
// Pages come packed, one row each (see packed_page.ts).

import type { PersistedEvent } from "../../src/event_log.ts";
import { batchedEventStream } from "../../src/_event_batches.ts";
import type { Page } from "./packed_page.ts";

/** What a paged stream reads from. */
export interface PageSource {
  /** The head as of now (`null`: nothing yet) and the first page from `from`. */
  first(
    from: number,
    limit: number,
    signal: AbortSignal,
  ): Promise<Page & { head: number | null }>;
  /**
   * The events with keys in `from..to`, at most `limit`, in key order; `full` when more may
   * follow (the limit was reached, or the page stopped at its size in bytes).
   */
  page(from: number, to: number, limit: number, signal: AbortSignal): Promise<Page>;
  /** The key the source orders by: seqNo or position. */
  key(event: PersistedEvent): number;
  /** Resolves when new events may be there (or at the poll interval, or on abort). */
  wait(signal: AbortSignal): Promise<void>;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** A stream over `source` from key `from` (inclusive), finite or live. */
export function pagedStream(
  source: PageSource,
  from: number,
  options: { live: boolean; signal: AbortSignal | undefined; pageSize: number },
): ReadableStream<PersistedEvent> {
  const { live, signal, pageSize } = options;
  // Aborts the query or wait in progress, on the user's signal and on cancel.
  const inner = new AbortController();
  let next = from;
  let head: number | null | undefined;
  let ended = false;
  let prefetched: Promise<Page> | undefined;
  const fetchAhead = (key: number) => {
    prefetched = source.page(key, live ? UNBOUNDED : head ?? 0, pageSize, inner.signal);
    prefetched.catch(() => {}); // awaited by the next call, which sees the error
  };
  const nextPage = async (): Promise<Page> => {
    if (prefetched !== undefined) {
      const ahead = prefetched;
      prefetched = undefined;
      return await ahead;
    }
    if (live) return await source.page(next, UNBOUNDED, pageSize, inner.signal);
    if (head === undefined) {
      const first = await source.first(next, pageSize, inner.signal);
      head = first.head;
      return first;
    }
    return next > (head ?? 0)
      ? { events: [], full: false }
      : await source.page(next, head ?? 0, pageSize, inner.signal);
  };
  return batchedEventStream({
    async next() {
      for (;;) {
        if (ended || inner.signal.aborted) return null;
        const { events, full } = await nextPage();
        if (inner.signal.aborted) return null;
        if (events.length > 0) next = source.key(events[events.length - 1]!) + 1;
        if (!live && (!full || next > (head ?? 0))) ended = true;
        else if (full) fetchAhead(next);
        if (events.length > 0) return events;
        if (ended) return null;
        await source.wait(inner.signal);
      }
    },
    cancel(reason) {
      inner.abort(reason);
    },
  }, signal);
}
