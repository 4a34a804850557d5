// A Map that keeps the most recently set entries up to a bound, dropping the least recently set
// one when full: the caches of adapters (last seqNos, known positions) must not grow with the
// number of entities or type names a long-lived process sees.

/** A Map bounded to `capacity` entries, evicting the entry set longest ago. */
export class RecentMap<Key, Value> {
  readonly #entries = new Map<Key, Value>();
  readonly #capacity: number;
  // The keys, oldest first, walked by one iterator kept from eviction to eviction. A fresh
  // keys() iterator starts at the table's first slot and steps over every entry deleted since
  // V8 last compacted the table, so evicting through one costs time in proportion to the
  // capacity (bench/README.md, "How cost grows"); this one goes on from where it stopped.
  // Every key before it was evicted, and a key set again moves behind it, so it always comes
  // to the oldest entry next.
  #oldest: MapIterator<Key> | undefined;

  /** Creates an empty map that holds at most `capacity` entries. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value of `key`, if present (reading does not refresh it). */
  get(key: Key): Value | undefined {
    return this.#entries.get(key);
  }

  /** Sets `key` as the most recent entry, evicting the oldest when over capacity. */
  set(key: Key, value: Value): void {
    const entries = this.#entries;
    entries.delete(key);
    entries.set(key, value);
    if (entries.size > this.#capacity) this.#evictOldest();
  }

  /** Removes `key`; whether it was present. */
  delete(key: Key): boolean {
    return this.#entries.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#oldest = undefined;
  }

  #evictOldest(): void {
    let next = this.#oldest?.next();
    // A finished iterator sees no later entries: a new one starts from the first.
    if (next === undefined || next.done) {
      this.#oldest = this.#entries.keys();
      next = this.#oldest.next();
    }
    this.#entries.delete(next.value as Key);
  }
}
