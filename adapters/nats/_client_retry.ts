// How EntityClient waits between attempts and reads why one failed. Backoff is exponential
// with full jitter, so clients that met the same moving shard do not come back in step.

import { errors } from "@nats-io/nats-core";
import { onAbort } from "../../src/_abort.ts";

/** Why a request failed: what the client does next depends on it. */
export type AttemptFailure =
  /** No host subscribes to the subject (the shard is moving): nothing was done. */
  | "no-responders"
  /** The request may have been delivered but no answer came in time (or the link dropped). */
  | "lost"
  /** The caller's signal aborted while the request was out. */
  | "aborted"
  /** The connection is closed or the request cannot be sent at all: retrying is pointless. */
  | "fatal";

const ABORTED = Symbol("aborted");

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && chain.length < 8;) {
    chain.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

/** Classifies the rejection of one `request`. */
export function attemptFailure(error: unknown): AttemptFailure {
  if (error === ABORTED) return "aborted";
  const chain = causes(error);
  if (chain.some((e) => e instanceof errors.NoRespondersError)) return "no-responders";
  if (chain.some((e) => e instanceof errors.TimeoutError)) return "lost";
  if (
    chain.some((e) =>
      e instanceof errors.ClosedConnectionError || e instanceof errors.DrainingConnectionError ||
      e instanceof errors.PermissionViolationError || e instanceof errors.InvalidSubjectError ||
      e instanceof errors.InvalidArgumentError
    )
  ) return "fatal";
  // "connection disconnected" and the like: the request may have gone out; reconnects follow.
  return "lost";
}

/** The wait before attempt `attempt + 1`: up to 20 ms · 2^attempt, at most 1 s, jittered. */
export function backoffDelay(attempt: number): number {
  const ceiling = Math.min(1_000, 20 * 2 ** Math.min(attempt, 10));
  return ceiling / 2 + Math.random() * ceiling / 2;
}

/** Waits `ms` (nothing when ≤ 0) or until `signal` aborts, whichever comes first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const detach = onAbort(signal, () => {
      clearTimeout(timer);
      resolve();
    });
    const timer = setTimeout(() => {
      detach();
      resolve();
    }, ms);
  });
}

/** `promise`, or a rejection that attemptFailure reads as "aborted" once `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(ABORTED);
  }
  return new Promise<T>((resolve, reject) => {
    const detach = onAbort(signal, () => {
      promise.catch(() => {});
      reject(ABORTED);
    });
    promise.then(
      (value) => {
        detach();
        resolve(value);
      },
      (error) => {
        detach();
        reject(error);
      },
    );
  });
}
