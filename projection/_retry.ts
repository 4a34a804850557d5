// The one retry loop of projections: run an attempt; after a failure, tell the caller (who
// reports it, and may give up at once, e.g. on an offset conflict), then wait the error
// strategy's backoff delay and try again, until the attempt succeeds, the retries in a row
// exceed the limit, or the signal aborts. Reads, events and skips all retry through here, so
// they count, wait and stop alike.

import { backoffDelay, type ResolvedStrategy } from "./error_strategy.ts";
import { sleep } from "./_name_locks.ts";

/** How {@linkcode retry} treats failures. */
export interface RetryPolicy {
  /** The backoff delays. */
  readonly strategy: ResolvedStrategy;
  /** How many retries in a row are allowed (0: none, `Infinity`: no limit). */
  readonly limit: number;
  /** Ends the loop: no further attempt, and a pending backoff wait ends at once. */
  readonly signal: AbortSignal;
  /** Told each failure and its number in a row (1, 2, …); returns `false` to give up now. */
  readonly onFailure: (error: unknown, failures: number) => boolean;
  /** Told the number of the retry about to be waited for (1, 2, …). */
  readonly onRetry: (retries: number) => void;
}

/**
 * How {@linkcode retry} ended: `"done"` with the attempt's value; `"exhausted"` after the last
 * allowed retry failed; `"stopped"` when the signal aborted or `onFailure` gave up.
 */
export type RetryOutcome<T> =
  | { readonly status: "done"; readonly value: T }
  | { readonly status: "exhausted" | "stopped" };

const STOPPED = { status: "stopped" } as const;
const EXHAUSTED = { status: "exhausted" } as const;

/**
 * Runs `attempt` until it succeeds, retrying failures by `policy`. A long attempt (a live read)
 * calls the `succeeded` it gets whenever it made progress, so only failures in a row count.
 */
export async function retry<T>(
  attempt: (succeeded: () => void) => Promise<T>,
  policy: RetryPolicy,
): Promise<RetryOutcome<T>> {
  const { signal } = policy;
  let failures = 0;
  const succeeded = () => void (failures = 0);
  for (;;) {
    if (signal.aborted) return STOPPED;
    try {
      return { status: "done", value: await attempt(succeeded) };
    } catch (error) {
      if (signal.aborted) return STOPPED;
      failures++;
      if (!policy.onFailure(error, failures)) return STOPPED;
      if (failures > policy.limit) return EXHAUSTED;
      policy.onRetry(failures);
      try {
        await sleep(backoffDelay(policy.strategy, failures), signal);
      } catch {
        return STOPPED;
      }
    }
  }
}
