// The core's side of the batch hooks (`persistBatch`, `projectionBatch`): a hook must never fail
// the work it observes, so what it throws is dropped and the batch goes on unobserved.

/** What a batch hook returns: told once when its batch settled. */
export interface BatchObserver {
  ended(error?: unknown): void;
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
  return observer === undefined ? undefined : {
    ended(error?: unknown) {
      try {
        if (error === undefined) observer.ended();
        else observer.ended(error);
      } catch { /* dropped, see above */ }
    },
  };
}
