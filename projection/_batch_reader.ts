// Reads a stream of events in batches: up to `size` events, or fewer when `ms` pass after the
// batch's first event. For batches of more than one, a pump reads ahead into a queue (up to two
// batches, so reading overlaps the handling of the batch before), and the consumer wakes once
// per batch rather than once per event: racing every read against a timer costs more than the
// read itself. A stream of this package's event logs is read a page at a time instead of an
// event at a time (see src/_event_batches.ts).

import type { PersistedEvent } from "../src/event_log.ts";
import { type BatchReader as Pages, takeBatches } from "../src/_event_batches.ts";

/**
 * A source of events a page at a time, read instead of a stream (the merged read of several
 * types).
 */
export interface EventPages {
  /** The next events (at least one), or `null` at the end. */
  next(): Promise<readonly PersistedEvent[] | null>;
  /** Stops reading; a pending `next()` settles soon. */
  cancel(reason?: unknown): Promise<void>;
}

/** Batches of a stream; `next` resolves to `null` once the stream has ended or was cancelled. */
export class BatchReader {
  readonly #reader: ReadableStreamDefaultReader<PersistedEvent> | undefined;
  readonly #pages: Pages | EventPages | undefined;
  // Events of the last page not handed out yet (batches of one).
  #page: readonly PersistedEvent[] = [];
  #pageIndex = 0;
  readonly #size: number;
  readonly #ms: number;
  readonly #queue: PersistedEvent[] = [];
  #ended = false;
  #cancelled = false;
  #error: { reason: unknown } | undefined;
  #pumping = false;
  // The consumer's wake-up, resolved by the pump (a full batch, the end) or the deadline.
  #wake: (() => void) | undefined;
  // The pump's wake-up, resolved when the consumer made room.
  #room: (() => void) | undefined;

  constructor(
    source: ReadableStream<PersistedEvent> | EventPages,
    size: number,
    ms: number,
  ) {
    if (source instanceof ReadableStream) {
      this.#pages = takeBatches(source);
      this.#reader = this.#pages === undefined ? source.getReader() : undefined;
    } else {
      this.#pages = source;
      this.#reader = undefined;
    }
    this.#size = size;
    this.#ms = ms;
  }

  /**
   * The next batch, or `null` at the end; rejects with the stream's error. To end a pending
   * `next` at once (on stop), call {@linkcode BatchReader.cancel}.
   */
  async next(): Promise<PersistedEvent[] | null> {
    if (this.#size <= 1) {
      if (this.#pageIndex < this.#page.length) return [this.#page[this.#pageIndex++]!];
      if (this.#ended) return null;
      const chunk = await this.#read();
      if (chunk === null) {
        this.#ended = true;
        return null;
      }
      this.#page = chunk;
      this.#pageIndex = 1;
      return [chunk[0]!];
    }
    if (!this.#pumping) {
      this.#pumping = true;
      void this.#pump();
    }
    if (this.#queue.length === 0 && !this.#ended && this.#error === undefined) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    if (this.#queue.length > 0 && this.#queue.length < this.#size && !this.#ended) {
      // A batch has begun: wait for it to fill, or for the deadline.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, this.#ms);
      });
      clearTimeout(timer);
    }
    this.#wake = undefined;
    if (this.#queue.length === 0) {
      if (this.#error !== undefined) throw this.#error.reason;
      return null;
    }
    const batch = this.#queue.splice(0, this.#size);
    const room = this.#room;
    this.#room = undefined;
    room?.();
    return batch;
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#cancelled) {
        if (this.#queue.length >= 2 * this.#size) {
          await new Promise<void>((resolve) => (this.#room = resolve));
          continue;
        }
        const chunk = await this.#read();
        if (chunk === null) break;
        const wasEmpty = this.#queue.length === 0;
        for (const item of chunk) this.#queue.push(item);
        if (wasEmpty || this.#queue.length >= this.#size) this.#wakeConsumer();
      }
    } catch (reason) {
      this.#error = { reason };
    }
    this.#ended = true;
    this.#wakeConsumer();
  }

  // The next events (at least one), or null at the end.
  async #read(): Promise<readonly PersistedEvent[] | null> {
    if (this.#pages !== undefined) return await this.#pages.next();
    const result = await this.#reader!.read();
    return result.done ? null : [result.value];
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Cancels the stream (a pending read ends at once) and releases what the log holds. */
  async cancel(reason?: unknown): Promise<void> {
    this.#ended = true;
    this.#cancelled = true;
    this.#room?.();
    await (this.#pages ?? this.#reader!).cancel(reason).catch(() => {});
    this.#wakeConsumer();
  }
}
