/**
 * The error of projections: a stable `code`, a `reason`, the projection's name, and the
 * original failure as `cause`.
 *
 * @module
 */

/**
 * The stable `code` of a {@linkcode ProjectionError}.
 *
 * @example Compare a code
 * ```ts
 * import { PROJECTION_ERROR_CODE, ProjectionError } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const error = new ProjectionError("x", { projection: "balances", reason: "stopped" });
 * assert.equal(error.code, PROJECTION_ERROR_CODE);
 * ```
 */
export const PROJECTION_ERROR_CODE = "EVENTSOURCED_PROJECTION_FAILED" as const;

/**
 * What went wrong; see {@linkcode ProjectionError.reason}.
 *
 * @example Decide whether to alert
 * ```ts
 * import type { ProjectionFailure } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const alert = (reason: ProjectionFailure) => reason === "offset-conflict" || reason === "store-failed";
 * assert.ok(alert("offset-conflict"));
 * assert.ok(!alert("locked"));
 * ```
 */
export type ProjectionFailure =
  /** Another runner holds the projection's name (in this process or, on Postgres, elsewhere). */
  | "locked"
  /** The operation needs a stopped projection, and this one is running. */
  | "running"
  /** The operation needs a running projection, and this one is not. */
  | "not-running"
  /** The projection stopped (by `stop()`, its signal, or its error strategy) before it could finish the operation. */
  | "stopped"
  /** The stored offset was not the one this runner last wrote: another runner moved it. */
  | "offset-conflict"
  /** An event could not be decoded or its handler threw; the event is named by `position`. */
  | "event-failed"
  /** Reading the event log failed. */
  | "read-failed"
  /** The offset store failed to load or write the offset. */
  | "store-failed"
  /**
   * The offset store did not answer in time (`startTimeoutMs`): while starting, or giving the
   * name back at the end; the message names the call.
   */
  | "timeout";

/**
 * Options of a {@linkcode ProjectionError}.
 *
 * @example Wrap a handler's failure
 * ```ts
 * import { ProjectionError, type ProjectionErrorOptions } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const options: ProjectionErrorOptions = {
 *   projection: "balances",
 *   reason: "event-failed",
 *   position: 42,
 *   cause: new Error("disk full"),
 * };
 * const error = new ProjectionError('Cannot handle event 42 of projection "balances"', options);
 * assert.equal(error.position, 42);
 * assert.equal((error.cause as Error).message, "disk full");
 * ```
 */
export interface ProjectionErrorOptions extends ErrorOptions {
  /** The projection's name. */
  projection: string;
  /** What went wrong. */
  reason: ProjectionFailure;
  /** The position of the event concerned, when there is one. */
  position?: number | undefined;
}

/**
 * A failure of a projection or of an operation on it. The handler's or driver's error, when
 * there is one, is the `cause`; `state().lastError` holds the latest one.
 *
 * @example Recognise a lock held by another runner
 * ```ts
 * import { isProjectionError, ProjectionError } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const error: unknown = new ProjectionError('Projection "balances" is held by another runner', {
 *   projection: "balances",
 *   reason: "locked",
 * });
 * assert.ok(isProjectionError(error) && error.reason === "locked");
 * ```
 */
export class ProjectionError extends Error {
  /** Always {@linkcode PROJECTION_ERROR_CODE}. */
  readonly code: typeof PROJECTION_ERROR_CODE = PROJECTION_ERROR_CODE;
  /** The projection's name. */
  readonly projection: string;
  /** What went wrong. */
  readonly reason: ProjectionFailure;
  /** The position of the event concerned, when there is one. */
  readonly position: number | undefined;

  /** Creates the error with a message, the projection, the reason and an optional cause. */
  constructor(message: string, options: ProjectionErrorOptions) {
    const { projection, reason, position, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = "ProjectionError";
    this.projection = projection;
    this.reason = reason;
    this.position = position;
  }
}

/**
 * Whether `error` is a {@linkcode ProjectionError}, also one from another copy of the package.
 *
 * @example Check a caught error
 * ```ts
 * import { isProjectionError } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isProjectionError(new Error("x")), false);
 * ```
 */
export function isProjectionError(error: unknown): error is ProjectionError {
  return error instanceof Error && (error as { code?: unknown }).code === PROJECTION_ERROR_CODE;
}
