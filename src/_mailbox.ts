// The commands waiting behind the one an entity runs: a bounded FIFO. A sender finds it full
// and is refused at once (the caller sees "mailbox-full"), so an overloaded entity holds at
// most `capacity` commands and the heap stays bounded. A command whose signal aborts while it
// waits is withdrawn at once and frees its room.

import type { Command } from "./command.ts";
import type { Duplicate, Result } from "./result.ts";
import type { EventMetadata } from "./event_metadata.ts";
import { onAbort } from "./_abort.ts";
import type { ObservedCommand } from "./_observed.ts";

/** A command waiting in a {@linkcode Mailbox}, with the promise its sender holds. */
export interface Waiting {
  readonly command: Command<unknown, unknown, unknown, unknown>;
  readonly signal: AbortSignal | undefined;
  readonly metadata: EventMetadata;
  /** Hears when the command leaves the mailbox; only for an instrumented entity. */
  readonly observer: ObservedCommand | undefined;
  readonly resolve: (result: Result<unknown, unknown> | Duplicate) => void;
  readonly reject: (error: unknown) => void;
  /** Taken to run, or withdrawn by its signal: either way no longer waiting. */
  done: boolean;
  removeAbortListener: () => void;
}

// Withdrawn commands stay in the array until compaction; compacting once the array holds this
// many slots beyond twice the capacity keeps it bounded at amortised O(1) per command.
const SLACK = 64;

/** The bounded queue of an entity's waiting commands. */
export class Mailbox {
  readonly #capacity: number;
  #items: (Waiting | undefined)[] = [];
  #head = 0;
  #waiting = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Whether `capacity` commands already wait. */
  get full(): boolean {
    return this.#waiting >= this.#capacity;
  }

  /** How many commands wait (withdrawn ones not counted). */
  get size(): number {
    return this.#waiting;
  }

  /**
   * Queues `command` (the caller checked {@linkcode Mailbox.full}); the returned promise
   * settles when the entity has run it, or rejects with `aborted(signal)` when `signal` aborts
   * while it waits.
   */
  add(
    command: Command<unknown, unknown, unknown, unknown>,
    signal: AbortSignal | undefined,
    metadata: EventMetadata,
    observer: ObservedCommand | undefined,
    aborted: (signal: AbortSignal) => Error,
  ): Promise<Result<unknown, unknown> | Duplicate> {
    return new Promise((resolve, reject) => {
      const waiting: Waiting = {
        command,
        signal,
        metadata,
        observer,
        resolve,
        reject,
        done: false,
        removeAbortListener: noop,
      };
      if (signal !== undefined) {
        waiting.removeAbortListener = onAbort(signal, () => {
          if (waiting.done) return;
          waiting.done = true;
          this.#waiting--;
          reject(aborted(signal));
        });
      }
      this.#items.push(waiting);
      this.#waiting++;
      if (this.#items.length > 2 * this.#capacity + SLACK) this.#compact();
    });
  }

  /** The oldest waiting command, marked taken and detached from its signal; or `undefined`. */
  take(): Waiting | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const waiting = items[this.#head]!;
      items[this.#head++] = undefined;
      if (waiting.done) continue;
      waiting.done = true;
      this.#waiting--;
      waiting.removeAbortListener();
      return waiting;
    }
    items.length = 0;
    this.#head = 0;
    return undefined;
  }

  #compact(): void {
    const live: Waiting[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const waiting = this.#items[i]!;
      if (!waiting.done) live.push(waiting);
    }
    this.#items = live;
    this.#head = 0;
  }
}

function noop(): void {}
