// Group commit: writes that wait at the same time go out together as one batch, so the busier
// the log, the bigger the batches. A write joins the queue; a flush runs once the current task's
// microtasks have run, so writes issued in the same tick share a batch (including those that the
// answer of the last batch sets off). At most one batch per group is in flight: a second batch
// of the same group would only wait on the server for the first (see bench/README.md, "Why the
// SQL log does what it does"). Batches of different groups run side by side up to
// `concurrency`. Two writes of the same key are never in flight together, so one caller's writes
// keep their order. The queue knows nothing of what a write is: the batch function settles
// each entry.

import { onAbort } from "../../src/_abort.ts";
import { afterMicrotasks } from "./after_microtasks.ts";

/** One waiting write, as the queue sees it. */
export interface QueuedWrite {
  /** Writes of one key (an entity) are never in flight together. */
  readonly key: string;
  /** One batch per group (a type name) is in flight at a time. */
  readonly group: string;
  /** Its size in bytes, for the batch limit. */
  readonly size: number;
  /** Aborts the write while it waits in the queue; once sent, it settles with its batch. */
  readonly signal: AbortSignal | undefined;
  /** Fails the write (an abort while queued, or a batch that threw). */
  reject(error: unknown): void;
}

/**
 * Writes one batch and settles each of its entries; a rejection fails every entry of the batch
 * with that error.
 */
export type RunBatch<Write extends QueuedWrite> = (batch: readonly Write[]) => Promise<void>;

/** Options of a {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** Batches in flight at once. */
  readonly concurrency: number;
  /** Most writes in one batch. */
  readonly maxEntries: number;
  /** Most bytes in one batch (a larger single write still goes alone). */
  readonly maxBytes: number;
}

/** The queue of writes and the batches in flight. */
export class GroupCommit<Write extends QueuedWrite> {
  readonly #run: RunBatch<Write>;
  readonly #options: GroupCommitOptions;
  #queue: Write[] = [];
  readonly #groupsInFlight = new Set<string>();
  readonly #keysInFlight = new Set<string>();
  #batches = 0;
  #scheduled = false;
  readonly #unlisten = new Map<Write, () => void>();

  constructor(run: RunBatch<Write>, options: GroupCommitOptions) {
    this.#run = run;
    this.#options = options;
  }

  /**
   * Queues a write. An abort while it waits in the queue rejects it with the signal's reason;
   * once its batch is sent, the batch settles it (the write may land).
   */
  add(write: Write): void {
    this.#queue.push(write);
    const signal = write.signal;
    if (signal !== undefined) {
      this.#unlisten.set(
        write,
        onAbort(signal, () => {
          const index = this.#queue.indexOf(write);
          if (index < 0) return;
          this.#queue.splice(index, 1);
          this.#unlisten.delete(write);
          write.reject(signal.reason);
        }),
      );
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#batches >= this.#options.concurrency) return;
    this.#scheduled = true;
    afterMicrotasks(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#batches < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) return;
      this.#batches++;
      const groups = new Set<string>();
      for (const write of batch) {
        groups.add(write.group);
        this.#keysInFlight.add(write.key);
      }
      for (const group of groups) this.#groupsInFlight.add(group);
      this.#send(batch).finally(() => {
        this.#batches--;
        for (const write of batch) this.#keysInFlight.delete(write.key);
        for (const group of groups) this.#groupsInFlight.delete(group);
        this.#flush();
      });
    }
  }

  #sendable(write: Write): boolean {
    return !this.#keysInFlight.has(write.key) && !this.#groupsInFlight.has(write.group);
  }

  #dequeued(write: Write): void {
    const unlisten = this.#unlisten.get(write);
    if (unlisten === undefined) return;
    unlisten();
    this.#unlisten.delete(write);
  }

  #take(): Write[] {
    // The usual case of a caller whose commands come one at a time: one write waits, and
    // nothing of its group is in flight.
    if (this.#queue.length === 1) {
      const only = this.#queue[0]!;
      if (!only.signal?.aborted && this.#sendable(only)) {
        this.#queue = [];
        this.#dequeued(only);
        return [only];
      }
    }
    const { maxEntries, maxBytes } = this.#options;
    const batch: Write[] = [];
    const rest: Write[] = [];
    const keys = new Set<string>();
    let bytes = 0;
    for (const write of this.#queue) {
      if (write.signal?.aborted) {
        this.#dequeued(write);
        write.reject(write.signal.reason);
      } else if (
        !this.#sendable(write) || keys.has(write.key) || batch.length >= maxEntries ||
        (batch.length > 0 && bytes + write.size > maxBytes)
      ) {
        rest.push(write);
      } else {
        keys.add(write.key);
        this.#dequeued(write);
        batch.push(write);
        bytes += write.size;
      }
    }
    // The rest stays in arrival order, so no write is overtaken for ever.
    this.#queue = rest;
    return batch;
  }

  async #send(batch: Write[]): Promise<void> {
    try {
      await this.#run(batch);
    } catch (error) {
      for (const write of batch) write.reject(error);
    }
  }
}
