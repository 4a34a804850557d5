// When live readers that have caught up read again. Idle readers of one type name share one
// poll: a timer per type name asks for the type name's last position every poll interval and
// wakes only the readers that have not seen it, so a thousand idle readers cost one index probe
// per interval instead of a thousand page reads. An append by this log and a notification from
// another process wake every reader of the type name at once.
//
// A reader takes a mark (the last position the poll had seen) before each read and waits with
// it: anything that committed after the read's snapshot has a position above the head of that
// moment, so above the mark, and the next poll that sees it wakes the reader.

import { onAbort } from "../../src/_abort.ts";

/** The last committed position of a type name, 0 when it has no events. */
export type ReadHead = (typeName: string) => Promise<number>;

interface Waiter {
  readonly mark: number;
  readonly wake: () => void;
}

interface TypeNamePoll {
  readonly waiters: Set<Waiter>;
  // The last position the poll saw; -1 before its first answer.
  head: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Wake-ups of live readers, per type name. */
export class LiveWakeups {
  readonly #interval: number;
  readonly #readHead: ReadHead;
  readonly #polls = new Map<string, TypeNamePoll>();
  #closed = false;

  /** Polls each type name with waiting readers every `interval` ms through `readHead`. */
  constructor(interval: number, readHead: ReadHead) {
    this.#interval = interval;
    this.#readHead = readHead;
  }

  /** The mark to take before a read of `typeName`: the last position its poll has seen. */
  mark(typeName: string): number {
    return this.#polls.get(typeName)?.head ?? -1;
  }

  /**
   * Resolves when `typeName` may have events after `mark`: at a wake-up, when the poll sees a
   * position above `mark`, when `signal` aborts, or when the wake-ups close.
   */
  wait(typeName: string, mark: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted || this.#closed) return resolve();
      const poll = this.#poll(typeName);
      if (poll.head > mark) return resolve();
      const waiter: Waiter = {
        mark,
        wake: () => {
          poll.waiters.delete(waiter);
          removeListener();
          resolve();
        },
      };
      const removeListener = onAbort(signal, waiter.wake);
      poll.waiters.add(waiter);
      this.#schedule(typeName, poll);
    });
  }

  /** Wakes every waiting reader of `typeName` (an append or a notification). */
  wake(typeName: string): void {
    const poll = this.#polls.get(typeName);
    if (poll !== undefined) { for (const waiter of [...poll.waiters]) waiter.wake(); }
  }

  /** Stops polling and wakes every reader, for good. */
  close(): void {
    this.#closed = true;
    for (const [typeName, poll] of this.#polls) {
      clearTimeout(poll.timer);
      this.wake(typeName);
    }
    this.#polls.clear();
  }

  #poll(typeName: string): TypeNamePoll {
    let poll = this.#polls.get(typeName);
    if (poll === undefined) {
      poll = { waiters: new Set(), head: -1, timer: undefined };
      this.#polls.set(typeName, poll);
    }
    return poll;
  }

  #schedule(typeName: string, poll: TypeNamePoll): void {
    if (poll.timer !== undefined || this.#closed) return;
    poll.timer = setTimeout(() => void this.#run(typeName, poll), this.#interval);
  }

  async #run(typeName: string, poll: TypeNamePoll): Promise<void> {
    if (poll.waiters.size === 0) {
      // Nobody waits: the poll stops, and the next reader starts it again.
      poll.timer = undefined;
      if (this.#polls.get(typeName) === poll) this.#polls.delete(typeName);
      return;
    }
    try {
      poll.head = await this.#readHead(typeName);
      for (const waiter of [...poll.waiters]) if (waiter.mark < poll.head) waiter.wake();
    } catch {
      // The readers read themselves and report what failed.
      for (const waiter of [...poll.waiters]) waiter.wake();
    }
    // Polls on while readers wait or have just been woken (they read, then wait again with the
    // head as their mark); a round without waiters ends it.
    poll.timer = undefined;
    this.#schedule(typeName, poll);
  }
}
