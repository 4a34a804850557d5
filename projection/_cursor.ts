// Where a run reads from and how it stores how far it got: the run loop asks its cursor for
// the live read after the stored offsets, and commits each batch through it. A projection over
// one type keeps one offset (`projection_offsets`); one over several types keeps one per type
// (`type_offsets`, see _types_cursor.ts). Both move by compare-and-set with the handler's writes.

import type { EventLog, PersistedEvent } from "../src/event_log.ts";
import type { OffsetLease } from "./offset_store.ts";
import type { Progress } from "./_progress.ts";
import type { EventPages } from "./_batch_reader.ts";

/** The offsets of one run, and the read that continues from them. */
export interface Cursor<Tx> {
  /** The live read of the events after the offsets, ending when `signal` aborts. */
  read(signal: AbortSignal): ReadableStream<PersistedEvent> | EventPages;
  /** What `read` reads, for messages: `events of "account" from position 4`. */
  describeRead(): string;
  /**
   * Runs `work` in the store's unit of work, moving the offsets past `events` (which follow
   * the offsets, each type in position order), then advances the progress, calling
   * `committed` once the offsets have moved and before whoever waits for them
   * (`whenCaughtUp`) is woken.
   */
  commit(
    events: readonly PersistedEvent[],
    work: (tx: Tx) => Promise<void>,
    signal: AbortSignal,
    committed?: () => void,
  ): Promise<void>;
  /** How many events lie after the offsets, when the log can tell. */
  countAfter(signal: AbortSignal): Promise<number> | undefined;
}

/** The cursor of a projection over one type: one offset, in `lease.commit`. */
export class TypeCursor<Tx> implements Cursor<Tx> {
  readonly #eventLog: EventLog;
  readonly #typeName: string;
  readonly #lease: OffsetLease<Tx>;
  readonly #progress: Progress;

  constructor(eventLog: EventLog, typeName: string, lease: OffsetLease<Tx>, progress: Progress) {
    this.#eventLog = eventLog;
    this.#typeName = typeName;
    this.#lease = lease;
    this.#progress = progress;
  }

  read(signal: AbortSignal): ReadableStream<PersistedEvent> {
    const from = this.#progress.position + 1;
    return this.#eventLog.eventsByType(this.#typeName, from, { live: true, signal });
  }

  describeRead(): string {
    return `events of "${this.#typeName}" from position ${this.#progress.position + 1}`;
  }

  async commit(
    events: readonly PersistedEvent[],
    work: (tx: Tx) => Promise<void>,
    signal: AbortSignal,
    committed?: () => void,
  ): Promise<void> {
    const to = events[events.length - 1]!.position;
    await this.#lease.commit({ from: this.#progress.position, to }, work, { signal });
    this.#progress.advance(to, committed);
  }

  countAfter(signal: AbortSignal): Promise<number> | undefined {
    const { countAfter } = this.#eventLog;
    if (countAfter === undefined) return undefined;
    return countAfter.call(this.#eventLog, this.#typeName, this.#progress.position, { signal });
  }
}
