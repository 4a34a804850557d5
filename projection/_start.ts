// Starting and ending a run's hold on the offset store, each bounded in time: take the name,
// load the offset, and at the end give the name back. A store that never answers makes the
// start fail with a ProjectionError (reason "timeout") naming the call, instead of leaving
// `run()` or `stop()` waiting forever.

import { errorText } from "../src/_error_text.ts";
import { isProjectionError, ProjectionError } from "./errors.ts";
import type { OffsetLease, OffsetStore } from "./offset_store.ts";
import { deadline, settleBefore } from "./_deadline.ts";

/** What a start needs to know. */
export interface StartOptions {
  /** Wait for the name while another runner holds it (`onLocked: "wait"`). */
  readonly wait: boolean;
  /** The run's signal: stopping ends the start with its reason. */
  readonly signal: AbortSignal;
  /** The bound of the whole start, and of the release. */
  readonly timeoutMs: number;
}

/** A lease taken, and the offset (or offsets) stored under it. */
export interface Started<Tx, Offset> {
  readonly lease: OffsetLease<Tx>;
  readonly offset: Offset;
}

/**
 * Takes `name` from `store` and loads its offset with `load`, within `options.timeoutMs`. Rejects with the
 * signal's reason on stop, a `ProjectionError` on a timeout ("timeout") or a failure of the
 * store ("store-failed", or the store's own, e.g. "locked"); the name is given back then.
 */
export async function startRun<Tx, Offset>(
  store: OffsetStore<Tx>,
  name: string,
  options: StartOptions,
  load: (lease: OffsetLease<Tx>, signal: AbortSignal) => Promise<Offset>,
): Promise<Started<Tx, Offset>> {
  const { timeoutMs } = options;
  let step = "acquiring the name";
  const bound = deadline([options.signal], timeoutMs, () =>
    new ProjectionError(
      `Projection "${name}" did not start within ${timeoutMs} ms (startTimeoutMs): ${step} from the offset store did not answer`,
      { projection: name, reason: "timeout" },
    ));
  const { signal } = bound;
  try {
    let lease: OffsetLease<Tx>;
    try {
      // A lease that arrives after the start gave up is given back at once.
      lease = await settleBefore(
        store.acquire(name, { wait: options.wait, signal }),
        signal,
        (late) => void late.release().catch(() => {}),
      );
    } catch (error) {
      throw storeFailure(error, signal, `Cannot acquire the name of projection "${name}"`, name);
    }
    try {
      step = "loading the offset";
      return { lease, offset: await settleBefore(load(lease, signal), signal) };
    } catch (error) {
      await releaseWithin(lease, timeoutMs).catch(() => {});
      throw storeFailure(error, signal, `Cannot load the offset of projection "${name}"`, name);
    }
  } finally {
    bound.dispose();
  }
}

// The error a failed step of the start rejects with: the stop or timeout that ended it, the
// store's own ProjectionError, or the store's failure wrapped.
function storeFailure(error: unknown, signal: AbortSignal, what: string, name: string): unknown {
  if (signal.aborted) return signal.reason;
  if (isProjectionError(error)) return error;
  return new ProjectionError(`${what}: ${errorText(error)}`, {
    projection: name,
    reason: "store-failed",
    cause: error,
  });
}

/**
 * Gives the name back, waiting at most `timeoutMs`; rejects with a `ProjectionError` (reason
 * "timeout", or "store-failed" with the store's error) when the store does not release it.
 */
export async function releaseWithin<Tx>(lease: OffsetLease<Tx>, timeoutMs: number): Promise<void> {
  const name = lease.name;
  const bound = deadline([], timeoutMs, () =>
    new ProjectionError(
      `Projection "${name}" could not give its name back within ${timeoutMs} ms (startTimeoutMs): the offset store did not answer`,
      { projection: name, reason: "timeout" },
    ));
  try {
    await settleBefore(lease.release(), bound.signal);
  } catch (error) {
    throw storeFailure(
      error,
      bound.signal,
      `Cannot give back the name of projection "${name}"`,
      name,
    );
  } finally {
    bound.dispose();
  }
}
