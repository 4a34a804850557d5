// What a projection has done so far (offset, failures, skips) and who waits for it to reach a
// position: kept apart from the loop so `state()` and `whenCaughtUp()` read one place that
// outlives each run.

import { onAbort } from "../src/_abort.ts";
import { ProjectionError } from "./errors.ts";

interface Waiter {
  readonly reached: () => boolean;
  readonly describe: () => string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The progress of one projection across its runs. */
export class Progress {
  readonly #name: string;
  readonly #onError: (error: ProjectionError) => void;
  readonly #waiters = new Set<Waiter>();
  /** The position of the last event processed; `null` until loaded in this process. */
  offset: number | null = null;
  /**
   * Of a projection over several types: the position of the last event processed of each type;
   * `null` until loaded in this process.
   */
  typeOffsets: Map<string, number> | null = null;
  /** The latest failure, or `null`. */
  lastError: ProjectionError | null = null;
  /** Events skipped by the error strategy. */
  skipped = 0;
  /** Retries in a row of the current failure. */
  retries = 0;

  constructor(name: string, onError: (error: ProjectionError) => void) {
    this.#name = name;
    this.#onError = onError;
  }

  /** The offset, `0` when none is known yet. */
  get position(): number {
    return this.offset ?? 0;
  }

  /** Records `error` as the last one and hands it to `onError`, whose own failure is ignored. */
  report(error: ProjectionError): void {
    this.lastError = error;
    try {
      this.#onError(error);
    } catch { /* a failing reporter must not stop the projection */ }
  }

  /**
   * Moves the offset after a commit, ends the current failure, calls `moved` (which sees the
   * new offset) and wakes who waits for it.
   */
  advance(offset: number, moved?: () => void): void {
    this.offset = offset;
    moved?.();
    this.#advanced();
  }

  /** As {@linkcode Progress.advance}, for the offsets of the types in `offsets`. */
  advanceTypes(offsets: ReadonlyMap<string, number>, moved?: () => void): void {
    const known = this.typeOffsets ??= new Map();
    for (const [typeName, offset] of offsets) known.set(typeName, offset);
    moved?.();
    this.#advanced();
  }

  /** The offset of `typeName`, `0` when none is known yet. */
  typePosition(typeName: string): number {
    return this.typeOffsets?.get(typeName) ?? 0;
  }

  #advanced(): void {
    this.retries = 0;
    for (const waiter of this.#waiters) {
      if (waiter.reached()) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /**
   * Resolves once the offset reaches `target`; rejects with the signal's reason, or with
   * {@linkcode Progress.stoppedError} when `running()` says the loop has ended already.
   */
  waitFor(target: number, running: () => boolean, signal?: AbortSignal): Promise<void> {
    return this.waitUntil(() => this.position >= target, () => String(target), running, signal);
  }

  /**
   * Resolves once `reached()` holds (asked now and after every advance); rejects as
   * {@linkcode Progress.waitFor} does, `describe()` naming the target in the error.
   */
  waitUntil(
    reached: () => boolean,
    describe: () => string,
    running: () => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (reached()) return resolve();
      if (!running()) return reject(this.stoppedError(describe()));
      const waiter: Waiter = {
        reached,
        describe,
        resolve: () => {
          stopWaiting();
          resolve();
        },
        reject: (error) => {
          stopWaiting();
          reject(error);
        },
      };
      const stopWaiting = onAbort(signal, () => {
        this.#waiters.delete(waiter);
        reject(signal!.reason);
      });
      this.#waiters.add(waiter);
    });
  }

  /** Rejects every waiter: the loop has ended before their target. */
  endWaiters(): void {
    for (const waiter of this.#waiters) waiter.reject(this.stoppedError(waiter.describe()));
    this.#waiters.clear();
  }

  /** The error of a wait for `target` that the end of the loop cut short. */
  stoppedError(target: number | string): ProjectionError {
    return new ProjectionError(
      `Projection "${this.#name}" stopped at offset ${this.#shown()} before reaching ${target}`,
      { projection: this.#name, reason: "stopped", cause: this.lastError ?? undefined },
    );
  }

  // The offset for messages: one number, or each type's.
  #shown(): string {
    if (this.typeOffsets === null) return String(this.offset);
    return [...this.typeOffsets].map(([typeName, offset]) => `${typeName} ${offset}`).join(", ");
  }
}
