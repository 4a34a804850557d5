// Abort listeners that always come off again: a listener left on a long-lived signal keeps its
// closure (and whatever it holds) alive for the signal's lifetime.

/**
 * Calls `listener` once when `signal` aborts; returns the function that removes it. With no
 * signal it returns a no-op; an already aborted signal does not call `listener` (check
 * `signal.aborted` first where that matters).
 */
export function onAbort(
  signal: AbortSignal | undefined,
  listener: () => void,
): () => void {
  if (signal === undefined) return noop;
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

function noop(): void {}
