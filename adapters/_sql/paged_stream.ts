// Reads as streams of pages: each page is one short keyset query (`key >= next order by key
// limit n`), so a slow consumer holds no connection and no server-side cursor between pages,
// and backpressure is the stream's own: after a full page the next ones are fetched ahead (two
// for a finite read, one for a live read), so the database works while the consumer handles the
// page before. A finite read learns the head in the same statement as its first page and stops
// there; a live read waits for a wake-up (a local append, a notification, or the poll interval)
// when it has caught up. Pages come packed, one row each (see packed_page.ts).

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
// Pages a finite read requests ahead of the one the consumer has.
const FINITE_DEPTH = 2;

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
  // Pages requested ahead, in key order, each with the key it starts at.
  let ahead: { from: number; page: Promise<Page> }[] = [];
  const fetchAhead = () => {
    // A live read looks one page ahead; a finite read, whose keys up to the head are dense
    // (seqNos and positions are), two: the second starts where a full first page would end,
    // and is dropped if the first ends elsewhere (a page cut short by its size in bytes).
    const depth = live ? 1 : FINITE_DEPTH;
    const to = live ? UNBOUNDED : head ?? 0;
    while (ahead.length < depth) {
      const from = ahead.length === 0 ? next : ahead[ahead.length - 1]!.from + pageSize;
      if (from > to) break;
      const page = source.page(from, to, pageSize, inner.signal);
      page.catch(() => {}); // awaited by a later call, which sees the error, or dropped
      ahead.push({ from, page });
    }
  };
  const nextPage = async (): Promise<Page> => {
    const first = ahead.shift();
    if (first !== undefined && first.from === next) return await first.page;
    ahead = [];
    if (live) return await source.page(next, UNBOUNDED, pageSize, inner.signal);
    if (head === undefined) {
      const page = await source.first(next, pageSize, inner.signal);
      head = page.head;
      return page;
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
        else if (full) fetchAhead();
        if (events.length > 0) return events;
        if (ended) return null;
        await source.wait(inner.signal);
      }
    },
    cancel(reason) {
      inner.abort(reason);
    },
    head: () => live ? undefined : head,
  }, signal);
}
