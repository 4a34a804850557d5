// In-process exclusion of projection names: one holder per name within the scope the offset
// stores share (a store instance, or one database client), with waiters woken in order.

import { onAbort } from "../src/_abort.ts";
import { ProjectionError } from "./errors.ts";

const PROJECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws unless `name` is 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-". */
export function assertProjectionName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !PROJECTION_NAME.test(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : String(name);
    throw new TypeError(
      `Invalid projection name ${shown}: expected 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"`,
    );
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const stopListening = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal!.reason);
    });
    const timer = setTimeout(() => {
      stopListening();
      resolve();
    }, ms);
  });
}

/** Names held in this process, each with the queue of runners waiting for it. */
export class NameLocks {
  readonly #held = new Map<string, Array<() => void>>();

  /** Takes `name`; resolves to its release function. */
  async acquire(
    name: string,
    options: { wait?: boolean | undefined; signal?: AbortSignal | undefined },
  ): Promise<() => void> {
    const { wait = false, signal } = options;
    signal?.throwIfAborted();
    while (this.#held.has(name)) {
      if (!wait) {
        throw new ProjectionError(
          `Cannot run projection "${name}": it is already running in this process`,
          { projection: name, reason: "locked" },
        );
      }
      await new Promise<void>((resolve, reject) => {
        const waiters = this.#held.get(name)!;
        const wake = () => {
          stopListening();
          resolve();
        };
        const stopListening = onAbort(signal, () => {
          const index = waiters.indexOf(wake);
          if (index >= 0) waiters.splice(index, 1);
          reject(signal!.reason);
        });
        waiters.push(wake);
      });
      signal?.throwIfAborted();
    }
    this.#held.set(name, []);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const waiters = this.#held.get(name) ?? [];
      this.#held.delete(name);
      // Wake all; the first to run takes the name, the others queue again.
      for (const wake of waiters) wake();
    };
  }
}

const shared = new WeakMap<object, Map<string, NameLocks>>();

/**
 * The name locks of everything that shares `client` and `scope` (e.g. one database and one
 * offsets table), so two store instances over the same storage exclude each other too.
 */
export function nameLocksFor(client: object, scope: string): NameLocks {
  let byScope = shared.get(client);
  if (byScope === undefined) {
    byScope = new Map();
    shared.set(client, byScope);
  }
  let locks = byScope.get(scope);
  if (locks === undefined) {
    locks = new NameLocks();
    byScope.set(scope, locks);
  }
  return locks;
}
