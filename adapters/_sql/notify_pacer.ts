// How often an event log sends NOTIFY. A notification wakes live readers in other processes
// (they poll as well, so it is only a hint), and it is not free: PostgreSQL takes a database-wide
// lock to queue it at commit (see bench/README.md). So an append carries NOTIFY only when its
// type names have not been announced for `interval` ms; an append that committed without one is
// announced by the next append that carries one, or by a NOTIFY of its own `interval` ms after
// it committed, whichever comes first. A reader in another process therefore learns of an event
// at most `interval` ms (plus the timer's lateness) after its commit.

/** Sends one NOTIFY per type name (its own statement). */
export type SendNotify = (typeNames: readonly string[]) => Promise<void>;

/** Decides which appends carry NOTIFY, and announces those that did not. */
export class NotifyPacer {
  readonly #interval: number;
  readonly #send: SendNotify;
  readonly #now: () => number;
  // Type name → when an append that carries its NOTIFY was last sent.
  readonly #sentAt = new Map<string, number>();
  // Type name → when the oldest of its committed events that no notification announced yet
  // committed.
  readonly #owed = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `interval`: most ms between notifications of one type name; 0 notifies every append. `now`
   * is the clock in ms (tests pass their own).
   */
  constructor(interval: number, send: SendNotify, now: () => number = () => performance.now()) {
    this.#interval = interval;
    this.#send = send;
    this.#now = now;
  }

  /**
   * Whether an append of `typeNames` sent now carries NOTIFY: when one of them has not been
   * announced for the interval. If it does, they all count as announced from now on.
   */
  carry(typeNames: Iterable<string>): boolean {
    const now = this.#now();
    let due = this.#interval === 0;
    for (const typeName of typeNames) {
      if (due) break;
      const sentAt = this.#sentAt.get(typeName);
      due = sentAt === undefined || now - sentAt >= this.#interval;
    }
    if (due) { for (const typeName of typeNames) this.#sentAt.set(typeName, now); }
    return due;
  }

  /**
   * An append of `typeNames` committed; `carried` says whether it carried NOTIFY. Events that
   * committed earlier without one are announced with it (appends of one type name commit one
   * after the other, see group_commit.ts). Otherwise they are owed: the next append that
   * carries NOTIFY announces them, or a NOTIFY of their own once they have waited the interval.
   * Under a steady load the appends carry them all and no NOTIFY of its own is needed.
   */
  committed(typeNames: Iterable<string>, carried: boolean): void {
    const now = this.#now();
    for (const typeName of typeNames) {
      if (carried) this.#owed.delete(typeName);
      else if (!this.#owed.has(typeName)) this.#owed.set(typeName, now);
    }
    this.#schedule();
  }

  /** Sends the notifications owed now (before the log closes, say). Never rejects. */
  flush(): Promise<void> {
    return this.#sendOwed(Infinity);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#owed.size === 0) return;
    const oldest = Math.min(...this.#owed.values());
    const wait = Math.max(0, oldest + this.#interval - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#sendOwed(this.#now() - this.#interval);
    }, wait);
  }

  // Sends a NOTIFY for each type name owed since `before` or earlier; the rest wait on.
  async #sendOwed(before: number): Promise<void> {
    const typeNames: string[] = [];
    for (const [typeName, since] of this.#owed) {
      if (since <= before) typeNames.push(typeName);
    }
    for (const typeName of typeNames) this.#owed.delete(typeName);
    if (before === Infinity) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else {
      this.#schedule();
    }
    if (typeNames.length === 0) return;
    const now = this.#now();
    for (const typeName of typeNames) this.#sentAt.set(typeName, now);
    // Only a hint: readers still poll, so a failed notification delays them, no more.
    await this.#send(typeNames).catch(() => {});
  }
}
