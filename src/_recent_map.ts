// A Map that keeps the most recently set entries up to a bound, dropping the least recently set
// one when full: the caches of adapters (last seqNos, known positions) must not grow with the
// number of entities or type names a long-lived process sees.

/** A Map bounded to `capacity` entries, evicting the entry set longest ago. */
export class RecentMap<Key, Value> {
  readonly #entries = new Map<Key, Value>();
  readonly #capacity: number;

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
    if (entries.size > this.#capacity) entries.delete(entries.keys().next().value!);
  }

  /** Removes `key`; whether it was present. */
  delete(key: Key): boolean {
    return this.#entries.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
