// The core's side of the batch hooks (`persistBatch`, `projectionBatch`): a hook must never fail
// the work it observes, so what it throws is dropped and the batch goes on unobserved.

/**
 * What a batch hook returns: told once when its batch settled and, for a projection, how far
 * behind the head it is.
 */
export interface BatchObserver {
  ended(error?: unknown): void;
  behind?(events: number): void;
}

/** Calls `hook` with `args`; the observer it gives, with an `ended` that never throws. */
export function observeBatch<Args extends unknown[]>(
  hook: (...args: Args) => BatchObserver | undefined,
  ...args: Args
): BatchObserver | undefined {
  let observer: BatchObserver | undefined;
  try {
    observer = hook(...args);
  } catch {
    return undefined;
  }
  if (observer === undefined) return undefined;
  const safe: BatchObserver = {
    ended(error?: unknown) {
      try {
        if (error === undefined) observer.ended();
        else observer.ended(error);
      } catch { /* dropped, see above */ }
    },
  };
  if (typeof observer.behind === "function") {
    safe.behind = (events: number) => {
      try {
        observer.behind!(events);
      } catch { /* dropped, see above */ }
    };
  }
  return safe;
}
