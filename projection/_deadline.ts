// Bounded waits for the projection's calls to its offset store and event log: a call that
// never answers (a hung connection, a store that ignores its signal) must not keep `run()`,
// `stop()` or `whenCaughtUp()` waiting forever.

import { onAbort } from "../src/_abort.ts";

/** A signal that aborts when any of `signals` does, or after `ms`; `dispose` lets go of all. */
export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * A signal that aborts with the reason of the first of `signals` to abort, or, when `ms` is
 * given, with `expired()` after `ms`. Call `dispose` when done, to clear the timer and the
 * listeners on the (possibly long-lived) signals.
 */
export function deadline(
  signals: readonly (AbortSignal | undefined)[],
  ms?: number,
  expired?: () => unknown,
): Deadline {
  const controller = new AbortController();
  const removers: (() => void)[] = [];
  for (const signal of signals) {
    if (signal === undefined) continue;
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    removers.push(onAbort(signal, () => controller.abort(signal.reason)));
  }
  const timer = ms === undefined || controller.signal.aborted
    ? undefined
    : setTimeout(() => controller.abort(expired?.()), ms);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      for (const remove of removers) remove();
    },
  };
}

/**
 * Settles as `promise` does, or rejects with the signal's reason when it aborts first. A value
 * that arrives after that is handed to `late` (e.g. to give back a lease nobody waits for).
 */
export function settleBefore<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  late?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const stop = onAbort(signal, () => {
      settled = true;
      reject(signal.reason);
    });
    if (signal.aborted) {
      settled = true;
      reject(signal.reason);
    }
    promise.then(
      (value) => {
        stop();
        if (settled) late?.(value);
        else resolve(value);
      },
      (error) => {
        stop();
        if (!settled) reject(error);
      },
    );
  });
}
