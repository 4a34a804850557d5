// The last position of each type name that an event log wrote itself, so that its next append
// of that type name can number its events without lock or probe (see positions.ts): from a
// position this log saw committed, the next one is either free, and then the right one, or
// taken, and then the unique index refuses it. Two logs appending one type name take each
// other's positions; after such a collision the type name is numbered with lock and probe for
// a while.

import { RecentMap } from "../../src/_recent_map.ts";

// How long a type name whose known position collided is numbered with lock and probe.
const CONTENDED_MS = 1_000;
// Type names remembered at most; the oldest goes first.
const MAX_TYPE_NAMES = 10_000;

/** Last positions this log wrote, per type name. */
export class KnownPositions {
  readonly #last = new RecentMap<string, number>(MAX_TYPE_NAMES);
  readonly #contendedUntil = new RecentMap<string, number>(MAX_TYPE_NAMES);

  /** The last position of `typeName` if this log wrote it and no collision was seen lately. */
  get(typeName: string): number | undefined {
    const until = this.#contendedUntil.get(typeName);
    if (until !== undefined) {
      if (performance.now() < until) return undefined;
      this.#contendedUntil.delete(typeName);
    }
    return this.#last.get(typeName);
  }

  /** An append of `typeName` by this log committed; `position` is its last. */
  wrote(typeName: string, position: number): void {
    this.#last.set(typeName, position);
  }

  /** This log appended `typeName` without learning the positions. */
  forget(typeName: string): void {
    this.#last.delete(typeName);
  }

  /** A numbering from the known position of `typeName` was refused: another writer appends it. */
  collided(typeName: string): void {
    this.#last.delete(typeName);
    this.#contendedUntil.set(typeName, performance.now() + CONTENDED_MS);
  }

  /** Forgets everything (after a failure that may mean another server, say). */
  clear(): void {
    this.#last.clear();
  }
}
