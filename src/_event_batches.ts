// The event logs of this package read their events in batches (an array slice, a page of rows),
// but the EventLog port hands out a ReadableStream of single events, and on some runtimes one
// stream read costs as much as decoding the event. So a stream made here from a batch source
// remembers that source, and the core's own readers (replay) can take the batches directly:
// the stream is then locked and never read, so every event is still read exactly once. Any other
// reader, and any EventLog written elsewhere, uses the stream as it is.

import { onAbort } from "./_abort.ts";
import type { PersistedEvent } from "./event_log.ts";

/** A source of events, a batch at a time. */
export interface EventBatches {
  /** The next events (at least one), or `null` at the end. */
  next(): Promise<readonly PersistedEvent[] | null>;
  /** Stops reading and releases what the source holds; a pending `next()` settles soon. */
  cancel(reason: unknown): void;
  /**
   * The last key (seqNo or position) of a finite read as of its start, once known (after the
   * first `next()` at the latest; `null`: the log was empty); `undefined` when unknown.
   */
  head?(): number | null | undefined;
}

/** The batches of a stream, taken by {@linkcode takeBatches}. */
export interface BatchReader {
  /** The next events (at least one), or `null` at the end; rejects with an abort's reason. */
  next(): Promise<readonly PersistedEvent[] | null>;
  /** Cancels the read (like cancelling the stream). */
  cancel(reason: unknown): Promise<void>;
  /** As {@linkcode EventBatches.head}: the head of a finite read once known. */
  head(): number | null | undefined;
}

const sources = new WeakMap<
  ReadableStream<PersistedEvent>,
  Pick<BatchReader, "next" | "head">
>();

/**
 * A stream of the events of `batches`. `signal` aborts the read: the stream errors with its
 * reason, and the source is cancelled.
 */
export function batchedEventStream(
  batches: EventBatches,
  signal: AbortSignal | undefined,
): ReadableStream<PersistedEvent> {
  let detach: (() => void) | undefined;
  const release = () => {
    detach?.();
    detach = undefined;
  };
  const next = async (): Promise<readonly PersistedEvent[] | null> => {
    if (signal?.aborted) throw signal.reason;
    let batch: readonly PersistedEvent[] | null;
    try {
      batch = await batches.next();
    } catch (error) {
      release();
      throw signal?.aborted ? signal.reason : error;
    }
    if (signal?.aborted) throw signal.reason;
    if (batch === null) release();
    return batch;
  };
  // A high-water mark of 0: the stream pulls only for a waiting read, so a stream whose batches
  // were taken never pulls on its own.
  const stream = new ReadableStream<PersistedEvent>({
    start(controller) {
      if (!signal) return;
      if (signal.aborted) {
        batches.cancel(signal.reason);
        controller.error(signal.reason);
        return;
      }
      detach = onAbort(signal, () => {
        release();
        batches.cancel(signal.reason);
        try {
          controller.error(signal.reason);
        } catch { /* already closed */ }
      });
    },
    async pull(controller) {
      sources.delete(stream); // read as a stream from now on
      let batch: readonly PersistedEvent[] | null;
      try {
        batch = await next();
      } catch (error) {
        if (signal?.aborted) return; // errored by the abort listener already
        throw error;
      }
      if (batch === null) controller.close();
      else for (const event of batch) controller.enqueue(event);
    },
    cancel(reason) {
      release();
      batches.cancel(reason);
    },
  }, { highWaterMark: 0 });
  sources.set(stream, { next, head: () => batches.head?.() });
  return stream;
}

/**
 * The batches behind `stream` when it was made by {@linkcode batchedEventStream} and nobody
 * has read it yet; the stream is then locked for good. `undefined` otherwise: read the stream.
 */
export function takeBatches(stream: ReadableStream<PersistedEvent>): BatchReader | undefined {
  const source = sources.get(stream);
  if (source === undefined || stream.locked) return undefined;
  sources.delete(stream);
  const lock = stream.getReader();
  return { next: source.next, head: source.head, cancel: (reason) => lock.cancel(reason) };
}
