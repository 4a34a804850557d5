// Calls a progress callback at most once per interval, so that reporting never slows the work
// it reports on; `flush` makes the last call whatever the interval.

/** A callback wrapped to run at most once every `intervalMs`. */
export interface Throttled<T> {
  /** Calls the callback with `value` when the interval has passed since the last call. */
  maybe(value: () => T): void;
  /** Calls the callback with `value` now. */
  flush(value: () => T): void;
}

/** Wraps `callback` (nothing when `undefined`) to run at most once every `intervalMs`. */
export function throttle<T>(
  callback: ((value: T) => void) | undefined,
  intervalMs: number,
): Throttled<T> {
  let last = -Infinity;
  const call = (value: () => T): void => {
    last = performance.now();
    callback?.(value());
  };
  return {
    maybe(value) {
      if (callback !== undefined && performance.now() - last >= intervalMs) call(value);
    },
    flush(value) {
      if (callback !== undefined) call(value);
    },
  };
}
