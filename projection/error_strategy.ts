/**
 * What a projection does when an event fails (it cannot be decoded, or its handler or the
 * commit of its offset throws) or reading the event log fails.
 *
 * @module
 */

import {
  numberAtLeast,
  oneOf,
  optionMessage,
  type OptionRule,
  readOptions,
} from "../src/_options.ts";

/**
 * Stop the projection; `state().lastError` says why. The failed event is not committed.
 *
 * @example Stop at the first failure
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection, type StopStrategy } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [1, -1, 2].map((n) => binarize.eventToBytes(n)));
 * const errorStrategy: StopStrategy = { type: "stop" };
 * const projection = new Projection("positives", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   errorStrategy,
 *   onError: () => {},
 *   handleEvent: ({ event }) => {
 *     if (event < 0) throw new RangeError(`negative: ${event}`);
 *   },
 * });
 * await projection.run();
 * const state = await projection.whenStopped();
 * assert.equal(state.offset, 1);
 * assert.equal(state.lastError?.reason, "event-failed");
 * ```
 */
export interface StopStrategy {
  /** Always `"stop"`. */
  readonly type: "stop";
}

/**
 * Skip the failed event: its offset is committed without its writes, the error is reported to
 * `onError`, and `state().skipped` counts it. A failed read of the event log, where there is no
 * event to skip, is retried with the default backoff.
 *
 * @example Skip events the handler rejects
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection, type SkipStrategy } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [1, -1, 2].map((n) => binarize.eventToBytes(n)));
 * const errorStrategy: SkipStrategy = { type: "skip" };
 * const skipped: number[] = [];
 * let total = 0;
 * const projection = new Projection("positives", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   errorStrategy,
 *   onError: (error) => void skipped.push(error.position!),
 *   handleEvent: ({ event }) => {
 *     if (event < 0) throw new RangeError(`negative: ${event}`);
 *     total += event;
 *   },
 * });
 * await projection.run();
 * const state = await projection.whenCaughtUp();
 * assert.equal(total, 3);
 * assert.equal(state.skipped, 1);
 * assert.deepEqual(skipped, [2]);
 * await projection.stop();
 * ```
 */
export interface SkipStrategy {
  /** Always `"skip"`. */
  readonly type: "skip";
}

/**
 * Retry the failed event (or read) after a delay that grows from `initialDelayMs` by `factor`
 * up to `maxDelayMs`. After `maxRetries` retries in a row, do `exhausted`.
 *
 * @example Ride out a flaky read model
 * ```ts
 * import { jsonBinarize, MemoryEventLog } from "@eventsourced/eventsourced";
 * import { MemoryOffsetStore, Projection, type RetryStrategy } from "@eventsourced/eventsourced/projection";
 * import assert from "node:assert/strict";
 *
 * const eventLog = new MemoryEventLog();
 * const binarize = jsonBinarize<number, number>();
 * await eventLog.persist("counter", "a", null, [binarize.eventToBytes(1)]);
 * const errorStrategy: RetryStrategy = {
 *   type: "retry",
 *   initialDelayMs: 10,
 *   maxDelayMs: 1_000,
 *   factor: 2,
 *   maxRetries: 5,
 *   exhausted: "stop",
 * };
 * let attempts = 0;
 * const projection = new Projection("totals", {
 *   typeName: "counter",
 *   eventLog,
 *   binarize,
 *   offsetStore: new MemoryOffsetStore(),
 *   errorStrategy,
 *   onError: () => {},
 *   handleEvent: () => {
 *     if (++attempts < 3) throw new Error("read model unavailable"); // fails twice
 *   },
 * });
 * await projection.run();
 * const state = await projection.whenCaughtUp();
 * assert.equal(attempts, 3);
 * assert.equal(state.offset, 1);
 * assert.equal(state.retries, 0);
 * await projection.stop();
 * ```
 */
export interface RetryStrategy {
  /** Always `"retry"`. */
  readonly type: "retry";
  /** The first delay in ms; default 100. */
  readonly initialDelayMs?: number | undefined;
  /** The longest delay in ms; default 30 000. */
  readonly maxDelayMs?: number | undefined;
  /** How much each delay grows; default 2. */
  readonly factor?: number | undefined;
  /** How many retries in a row before giving up; default unlimited. */
  readonly maxRetries?: number | undefined;
  /** What to do after the last retry failed: `"stop"` (default) or `"skip"`. */
  readonly exhausted?: "stop" | "skip" | undefined;
}

/**
 * One of {@linkcode RetryStrategy} (the default, unlimited), {@linkcode SkipStrategy} or
 * {@linkcode StopStrategy}.
 *
 * @example Retry three times, then skip the event
 * ```ts
 * import type { ErrorStrategy } from "@eventsourced/eventsourced/projection";
 *
 * const strategy: ErrorStrategy = {
 *   type: "retry",
 *   initialDelayMs: 50,
 *   maxRetries: 3,
 *   exhausted: "skip",
 * };
 * ```
 */
export type ErrorStrategy = RetryStrategy | SkipStrategy | StopStrategy;

/** The checked, filled-in form of an {@linkcode ErrorStrategy}. */
export interface ResolvedStrategy {
  readonly type: "retry" | "skip" | "stop";
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly maxRetries: number;
  readonly exhausted: "stop" | "skip";
}

const WHERE = "errorStrategy";

const RETRY_DEFAULTS = {
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  factor: 2,
  maxRetries: Infinity,
  exhausted: "stop",
} as const;

const maxRetriesRule: OptionRule<number | undefined> = {
  default: RETRY_DEFAULTS.maxRetries,
  valid: (value) =>
    value === Infinity ||
    (typeof value === "number" && Number.isSafeInteger(value) && value >= 0),
  expected: "an integer ≥ 0 or Infinity",
};

/**
 * Checks a strategy and fills in the defaults; throws a TypeError for an unknown type or key
 * (the keys of `"retry"` do not belong to `"skip"` or `"stop"`), a RangeError for a bad value.
 */
export function resolveStrategy(strategy: unknown): ResolvedStrategy {
  if (strategy === undefined) return { type: "retry", ...RETRY_DEFAULTS };
  if (strategy === null || typeof strategy !== "object") {
    throw new TypeError(`Invalid ${WHERE} ${String(strategy)}: expected an object`);
  }
  const type = (strategy as { type?: unknown }).type;
  if (type === "skip" || type === "stop") {
    readOptions<{ type: typeof type }>(WHERE, strategy, { type: oneOf([type], type) });
    return { ...RETRY_DEFAULTS, type };
  }
  if (type !== "retry") {
    throw new TypeError(
      optionMessage(WHERE, "type", type, `one of "retry", "skip", "stop"`),
    );
  }
  const retry = readOptions<RetryStrategy>(WHERE, strategy, {
    type: oneOf(["retry"], "retry"),
    initialDelayMs: numberAtLeast(0, RETRY_DEFAULTS.initialDelayMs),
    maxDelayMs: numberAtLeast(0, RETRY_DEFAULTS.maxDelayMs),
    factor: numberAtLeast(1, RETRY_DEFAULTS.factor),
    maxRetries: maxRetriesRule,
    exhausted: oneOf(["stop", "skip"] as const, RETRY_DEFAULTS.exhausted),
  });
  return {
    type: "retry",
    initialDelayMs: retry.initialDelayMs!,
    maxDelayMs: retry.maxDelayMs!,
    factor: retry.factor!,
    maxRetries: retry.maxRetries!,
    exhausted: retry.exhausted!,
  };
}

/**
 * How many retries in a row a failed read of the event log gets: none under `"stop"`, no
 * limit under `"skip"` (there is no event to skip), `maxRetries` under `"retry"`.
 */
export function readRetryLimit(strategy: ResolvedStrategy): number {
  if (strategy.type === "stop") return 0;
  return strategy.type === "skip" ? Infinity : strategy.maxRetries;
}

/** How many retries in a row a failed event gets before it is skipped or stops the projection. */
export function eventRetryLimit(strategy: ResolvedStrategy): number {
  return strategy.type === "retry" ? strategy.maxRetries : 0;
}

/** What follows when a failed event has used up its retries: `"skip"` or `"stop"`. */
export function exhaustedAction(strategy: ResolvedStrategy): "skip" | "stop" {
  return strategy.type === "retry" ? strategy.exhausted : strategy.type;
}

/** The delay before retry number `attempt` (1, 2, …). */
export function backoffDelay(strategy: ResolvedStrategy, attempt: number): number {
  const delay = strategy.initialDelayMs * strategy.factor ** Math.max(attempt - 1, 0);
  return Math.min(delay, strategy.maxDelayMs);
}
