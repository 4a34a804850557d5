// In-process wake-ups for live readers, keyed by type name: an append by this instance, or a
// notification from another, wakes the readers of that type name at once instead of at their
// next poll.

/** Waiters per type name. */
export class Wakeups {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Calls `wake` at the next {@linkcode Wakeups.wake} of `typeName`; returns a cancel. */
  wait(typeName: string, wake: () => void): () => void {
    let set = this.#waiters.get(typeName);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(typeName, set);
    }
    set.add(wake);
    return () => {
      const current = this.#waiters.get(typeName);
      if (current?.delete(wake) && current.size === 0) this.#waiters.delete(typeName);
    };
  }

  /** Wakes every reader of `typeName`. */
  wake(typeName: string): void {
    const set = this.#waiters.get(typeName);
    if (set === undefined) return;
    this.#waiters.delete(typeName);
    for (const wake of set) wake();
  }
}
