// Reads as streams of pages: each pull runs one short keyset query (`key >= next order by key
// limit n`), so a slow consumer holds no connection and no server-side cursor between pages,
// and backpressure is the stream's own: after a full page the next one is fetched ahead, one
// page at most, so the database works while the consumer handles the page before. A finite read learns the head in the same statement as its first page and
// stops there; a live read waits for a wake-up (a local append, a notification, or the poll
// interval) when it has caught up.

import type { PersistedEvent } from "../../src/event_log.ts";

/** What a paged stream reads from. */
export interface PageSource {
  /** The head as of now (`null`: nothing yet) and the first page from `from`. */
  first(
    from: number,
    limit: number,
    signal: AbortSignal,
  ): Promise<{ head: number | null; events: PersistedEvent[] }>;
  /** The events with keys in `from..to`, at most `limit`, in key order. */
  page(from: number, to: number, limit: number, signal: AbortSignal): Promise<PersistedEvent[]>;
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
  let prefetched: Promise<PersistedEvent[]> | undefined;
  const fetchAhead = (key: number) => {
    prefetched = source.page(key, live ? UNBOUNDED : head ?? 0, pageSize, inner.signal);
    prefetched.catch(() => {}); // awaited by the next pull, which sees the error
  };
  let onAbort: (() => void) | undefined;
  const release = () => {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    onAbort = undefined;
  };
  return new ReadableStream<PersistedEvent>({
    start(controller) {
      if (!signal) return;
      if (signal.aborted) {
        inner.abort(signal.reason);
        controller.error(signal.reason);
        return;
      }
      onAbort = () => {
        release();
        inner.abort(signal.reason);
        try {
          controller.error(signal.reason);
        } catch { /* already closed */ }
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        for (;;) {
          let events: PersistedEvent[];
          if (prefetched !== undefined) {
            const ahead = prefetched;
            prefetched = undefined;
            events = await ahead;
          } else if (live) {
            events = await source.page(next, UNBOUNDED, pageSize, inner.signal);
          } else if (head === undefined) {
            const first = await source.first(next, pageSize, inner.signal);
            head = first.head;
            events = first.events;
          } else {
            events = next > (head ?? 0)
              ? []
              : await source.page(next, head ?? 0, pageSize, inner.signal);
          }
          if (inner.signal.aborted) return;
          for (const event of events) controller.enqueue(event);
          if (events.length > 0) next = source.key(events[events.length - 1]!) + 1;
          const full = events.length === pageSize;
          if (!live && (!full || next > (head ?? 0))) {
            release();
            controller.close();
            return;
          }
          if (full) fetchAhead(next);
          if (!live || events.length > 0) return;
          await source.wait(inner.signal);
          if (inner.signal.aborted) return;
        }
      } catch (error) {
        if (inner.signal.aborted) return;
        release();
        throw error;
      }
    },
    cancel(reason) {
      release();
      inner.abort(reason);
    },
  });
}
