/**
 * The error contract of eventsourced: each domain error is an `Error` subclass with a stable
 * string `code`, a `cause` passed through, and an `isXxx` guard that checks the code, so it
 * still matches when two copies of the package are loaded.
 *
 * @module
 */

/**
 * The stable `code` of a {@linkcode ConcurrencyError}.
 *
 * @example Compare a code
 * ```ts
 * import { CONCURRENCY_ERROR_CODE, ConcurrencyError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ConcurrencyError({ typeName: "t", id: "a", expected: 1, actual: 2 }).code, CONCURRENCY_ERROR_CODE);
 * ```
 */
export const CONCURRENCY_ERROR_CODE = "EVENTSOURCED_CONCURRENCY_CONFLICT" as const;
/**
 * The stable `code` of a {@linkcode HandleCommandError}.
 *
 * @example Compare a code
 * ```ts
 * import { HANDLE_COMMAND_ERROR_CODE, HandleCommandError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new HandleCommandError("x", { reason: "stopped" }).code, HANDLE_COMMAND_ERROR_CODE);
 * ```
 */
export const HANDLE_COMMAND_ERROR_CODE = "EVENTSOURCED_HANDLE_COMMAND_FAILED" as const;
/**
 * The stable `code` of a {@linkcode SpawnError}.
 *
 * @example Compare a code
 * ```ts
 * import { SPAWN_ERROR_CODE, SpawnError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new SpawnError("x").code, SPAWN_ERROR_CODE);
 * ```
 */
export const SPAWN_ERROR_CODE = "EVENTSOURCED_SPAWN_FAILED" as const;
/**
 * The stable `code` of a {@linkcode DecodeError}.
 *
 * @example Compare a code
 * ```ts
 * import { DECODE_ERROR_CODE, DecodeError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new DecodeError({ typeName: "t", id: "a", seqNo: 1, what: "event" }).code, DECODE_ERROR_CODE);
 * ```
 */
export const DECODE_ERROR_CODE = "EVENTSOURCED_DECODE_FAILED" as const;
/**
 * The stable `code` of a {@linkcode StorageError}.
 *
 * @example Compare a code
 * ```ts
 * import { STORAGE_ERROR_CODE, StorageError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new StorageError("x", { reason: "unavailable" }).code, STORAGE_ERROR_CODE);
 * ```
 */
export const STORAGE_ERROR_CODE = "EVENTSOURCED_STORAGE_FAILED" as const;

/**
 * Fields of a {@linkcode ConcurrencyError}.
 *
 * @example Create the error in an adapter
 * ```ts
 * import { ConcurrencyError, type ConcurrencyErrorOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const options: ConcurrencyErrorOptions = { typeName: "t", id: "a", expected: null, actual: 4 };
 * assert.match(new ConcurrencyError(options).message, /expected last seqNo none, found 4/);
 * ```
 */
export interface ConcurrencyErrorOptions extends ErrorOptions {
  /** The entity's type name. */
  typeName: string;
  /** The entity's id. */
  id: string;
  /** The last seqNo the writer expected (`null`: a new entity). */
  expected: number | null;
  /** The last seqNo actually in the log (`null`: none), when the backend knows it. */
  actual: number | null;
}

/**
 * A persist was refused because the entity's last seqNo in the log is not the one the writer
 * expected: another writer got there first. Nothing of the refused persist was written.
 *
 * @example Recognise a conflict
 * ```ts
 * import { ConcurrencyError, isConcurrencyError, MemoryEventLog } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const log = new MemoryEventLog();
 * await log.persist("counter", "a", null, [new Uint8Array([1])]);
 * const error = await log.persist("counter", "a", null, [new Uint8Array([2])]).catch((e) => e);
 * assert.ok(error instanceof ConcurrencyError && isConcurrencyError(error));
 * assert.equal(error.actual, 1);
 * ```
 */
export class ConcurrencyError extends Error {
  /** Always {@linkcode CONCURRENCY_ERROR_CODE}. */
  readonly code: typeof CONCURRENCY_ERROR_CODE = CONCURRENCY_ERROR_CODE;
  /** The entity's type name. */
  readonly typeName: string;
  /** The entity's id. */
  readonly id: string;
  /** The last seqNo the writer expected (`null`: a new entity). */
  readonly expected: number | null;
  /** The last seqNo actually in the log (`null`: none). */
  readonly actual: number | null;

  /** Creates the error from the entity and both seqNos. */
  constructor(options: ConcurrencyErrorOptions) {
    const { typeName, id, expected, actual, ...errorOptions } = options;
    super(
      `Cannot persist events for "${typeName}/${id}": expected last seqNo ${
        expected ?? "none"
      }, found ${actual ?? "none"}`,
      errorOptions,
    );
    this.name = "ConcurrencyError";
    this.typeName = typeName;
    this.id = id;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Why a command failed technically; see {@linkcode HandleCommandError.reason}.
 *
 * @example Decide whether to retry
 * ```ts
 * import type { HandleCommandFailure } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const retryable = (reason: HandleCommandFailure) => reason === "persist-failed" || reason === "resync-failed";
 * assert.ok(retryable("persist-failed"));
 * assert.ok(!retryable("command-handler-threw"));
 * ```
 */
export type HandleCommandFailure =
  /** The command's signal aborted before the command ran. */
  | "aborted"
  /** The entity was stopped before the command ran. */
  | "stopped"
  /**
   * The command handler threw, or returned something that is not a valid effect (a hand-built
   * one of the wrong shape); nothing was written.
   */
  | "command-handler-threw"
  /** An event could not be encoded by the entity's `Binarize`; nothing was written. */
  | "encode-failed"
  /**
   * The entity already holds `commandBufferSize` commands waiting behind the one running: the
   * command was refused at once and nothing was done; retry later (with backoff) is safe.
   */
  | "mailbox-full"
  /**
   * The event log refused the write (a `ConcurrencyError`: another writer got there first) or
   * failed before sending it (a `StorageError` such as `"unavailable"`): nothing was written, a
   * retry is safe. A log that rejects with any other error is taken at its word. The entity
   * re-syncs before its next command.
   */
  | "persist-failed"
  /**
   * The write was sent but its outcome is unknown (the connection dropped, no answer in time,
   * the signal aborted after sending; the log rejected with a `StorageError` of reason
   * `"outcome-unknown"`): the events may be in the log. Do not retry blindly: a retry with the
   * same `commandId` is answered as a `Duplicate` if the events were written; without one,
   * read the entity's state first. The entity re-syncs before its next command.
   */
  | "persist-outcome-unknown"
  /** The event handler threw while applying persisted events; the entity re-syncs. */
  | "event-handler-threw"
  /** The entity could not re-read the log after an earlier failure. */
  | "resync-failed"
  /** The reply function threw after the events were persisted and applied. */
  | "reply-failed"
  /**
   * Sent by name to another process: no entity type or no command of that name is known
   * there. Nothing was done.
   */
  | "unknown-command"
  /**
   * Sent by name to another process: the payload could not be encoded or decoded, or the
   * command's factory refused it. Nothing was done.
   */
  | "bad-payload"
  /** Sent by name to another process: the entity id is not a valid one. Nothing was done. */
  | "invalid-id"
  /**
   * Sent by name to another process: no process answered for the entity before the deadline
   * (none hosts its shard, or the shard was moving). Nothing was done; a retry is safe.
   */
  | "unavailable"
  /**
   * Sent by name to another process: the deadline passed before an answer came. The command
   * may have been applied: send it again with the same `commandId` to learn which.
   */
  | "timeout";

/**
 * Options of a {@linkcode HandleCommandError}.
 *
 * @example Wrap a cause
 * ```ts
 * import { HandleCommandError, type HandleCommandErrorOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const options: HandleCommandErrorOptions = { reason: "persist-failed", cause: new Error("reset") };
 * assert.equal((new HandleCommandError("x", options).cause as Error).message, "reset");
 * ```
 */
export interface HandleCommandErrorOptions extends ErrorOptions {
  /** Why the command failed. */
  reason: HandleCommandFailure;
}

/**
 * A technical failure of a command: it was aborted, the entity was stopped, a handler threw,
 * or the event log failed. Business rejections are not errors: they come back as
 * `{ ok: false, error }`. The original failure, when there is one, is the `cause`.
 *
 * @example Tell a conflict from other failures
 * ```ts
 * import { HandleCommandError, isConcurrencyError, isHandleCommandError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const error: unknown = new HandleCommandError("Cannot handle command", { reason: "stopped" });
 * assert.ok(isHandleCommandError(error));
 * assert.equal(error.reason, "stopped");
 * assert.equal(isConcurrencyError(error.cause), false);
 * ```
 */
export class HandleCommandError extends Error {
  /** Always {@linkcode HANDLE_COMMAND_ERROR_CODE}. */
  readonly code: typeof HANDLE_COMMAND_ERROR_CODE = HANDLE_COMMAND_ERROR_CODE;
  /** Why the command failed. */
  readonly reason: HandleCommandFailure;

  /** Creates the error with a message, its reason and an optional cause. */
  constructor(message: string, options: HandleCommandErrorOptions) {
    const { reason, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = "HandleCommandError";
    this.reason = reason;
  }
}

/**
 * A technical failure while spawning an entity: bad options, a snapshot or event that cannot
 * be decoded, an event handler that throws during replay, or an event log that fails.
 *
 * @example Recognise a spawn failure
 * ```ts
 * import { isSpawnError, jsonBinarize, MemoryEventLog, spawn } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const entity = { typeName: "not valid!", initialState: 0, handleEvent: (s: number) => s };
 * const error = await spawn(entity, "a", { eventLog: new MemoryEventLog(), binarize: jsonBinarize() })
 *   .catch((e) => e);
 * assert.ok(isSpawnError(error));
 * ```
 */
export class SpawnError extends Error {
  /** Always {@linkcode SPAWN_ERROR_CODE}. */
  readonly code: typeof SPAWN_ERROR_CODE = SPAWN_ERROR_CODE;

  /** Creates the error with a message and an optional cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SpawnError";
  }
}

/**
 * Fields of a {@linkcode DecodeError}.
 *
 * @example Name the bad record
 * ```ts
 * import { DecodeError, type DecodeErrorOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const options: DecodeErrorOptions = { typeName: "t", id: "a", seqNo: 9, what: "snapshot" };
 * assert.match(new DecodeError(options).message, /snapshot of "t\/a" at seqNo 9/);
 * ```
 */
export interface DecodeErrorOptions extends ErrorOptions {
  /** The entity's type name. */
  typeName: string;
  /** The entity's id. */
  id: string;
  /** The seqNo of the event that failed, or of the snapshot. */
  seqNo: number;
  /** What failed to decode. */
  what: "event" | "snapshot";
  /** The version of the encoding the bytes were written with, when known. */
  version?: number | undefined;
}

/**
 * Stored bytes that the entity's `Binarize` could not turn back into an event or a state.
 * Names the entity and the seqNo so the bad record can be found.
 *
 * @example Recognise a decode failure
 * ```ts
 * import { DecodeError, isDecodeError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const error = new DecodeError({ typeName: "counter", id: "a", seqNo: 3, what: "event" });
 * assert.ok(isDecodeError(error));
 * assert.match(error.message, /counter\/a.*seqNo 3/);
 * ```
 */
export class DecodeError extends Error {
  /** Always {@linkcode DECODE_ERROR_CODE}. */
  readonly code: typeof DECODE_ERROR_CODE = DECODE_ERROR_CODE;
  /** The entity's type name. */
  readonly typeName: string;
  /** The entity's id. */
  readonly id: string;
  /** The seqNo of the event that failed, or of the snapshot. */
  readonly seqNo: number;
  /** What failed to decode. */
  readonly what: "event" | "snapshot";
  /** The version of the encoding the bytes were written with, when known. */
  readonly version: number | undefined;

  /** Creates the error from the entity, the seqNo and what failed. */
  constructor(options: DecodeErrorOptions) {
    const { typeName, id, seqNo, what, version, ...errorOptions } = options;
    const cause = errorOptions.cause;
    const why = cause instanceof Error ? `: ${cause.message}` : "";
    super(
      `Cannot decode ${what} of "${typeName}/${id}" at seqNo ${seqNo}${
        version === undefined ? "" : ` (version ${version})`
      }${why}`,
      errorOptions,
    );
    this.name = "DecodeError";
    this.typeName = typeName;
    this.id = id;
    this.seqNo = seqNo;
    this.what = what;
    this.version = version;
  }
}

/**
 * Why a backend failed; see {@linkcode StorageError.reason}.
 *
 * @example Decide whether a write may be retried
 * ```ts
 * import type { StorageFailure } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const safeToRetry = (reason: StorageFailure) => reason === "unavailable" || reason === "timeout";
 * assert.ok(!safeToRetry("outcome-unknown"));
 * ```
 */
export type StorageFailure =
  /** The server could not be reached, or the connection was lost before the call was sent. */
  | "unavailable"
  /** A read or a call that changes nothing had no answer in time. */
  | "timeout"
  /** A write was sent but its outcome is unknown: it may or may not have been stored. */
  | "outcome-unknown"
  /** The backend's tables, stream or bucket are missing: run `setup()` once. */
  | "schema-missing"
  /** An event, batch or snapshot is larger than the backend or its settings allow. */
  | "too-large"
  /** The server refused the credentials or the permission for this call. */
  | "permission-denied"
  /** An option, a setting or the server's configuration does not fit the adapter. */
  | "invalid-configuration"
  /** Stored data does not have the shape the adapter wrote (a foreign or damaged record). */
  | "corrupt-data"
  /** The adapter or its client was closed. */
  | "closed"
  /** Any other failure of the backend; the `cause` tells more. */
  | "failed";

/**
 * Options of a {@linkcode StorageError}.
 *
 * @example Wrap a driver error
 * ```ts
 * import { StorageError, type StorageErrorOptions } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const options: StorageErrorOptions = { reason: "unavailable", cause: new Error("ECONNREFUSED") };
 * assert.equal(new StorageError("Cannot read", options).reason, "unavailable");
 * ```
 */
export interface StorageErrorOptions extends ErrorOptions {
  /** Why the backend failed. */
  reason: StorageFailure;
}

/**
 * A failure of an event log, snapshot store or offset store, with a `reason` a program can act
 * on (retry, run `setup()`, alert) instead of parsing the message. The driver's error is the
 * `cause`. Every adapter of this package throws it for backend failures; bad arguments are
 * `TypeError`s and `RangeError`s, conflicts are {@linkcode ConcurrencyError}s.
 *
 * @example Tell a missing schema from an outage
 * ```ts
 * import { isStorageError, StorageError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const error: unknown = new StorageError("Cannot persist: the tables are missing", { reason: "schema-missing" });
 * assert.ok(isStorageError(error) && error.reason === "schema-missing");
 * ```
 */
export class StorageError extends Error {
  /** Always {@linkcode STORAGE_ERROR_CODE}. */
  readonly code: typeof STORAGE_ERROR_CODE = STORAGE_ERROR_CODE;
  /** Why the backend failed. */
  readonly reason: StorageFailure;

  /** Creates the error with a message, its reason and an optional cause. */
  constructor(message: string, options: StorageErrorOptions) {
    const { reason, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = "StorageError";
    this.reason = reason;
  }
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

/**
 * Whether `error` is a {@linkcode ConcurrencyError}, also one from another copy of the package.
 *
 * @example Check a caught error
 * ```ts
 * import { ConcurrencyError, isConcurrencyError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * const error = new ConcurrencyError({ typeName: "t", id: "a", expected: null, actual: 1 });
 * assert.ok(isConcurrencyError(error));
 * assert.equal(isConcurrencyError(new Error("x")), false);
 * ```
 */
export function isConcurrencyError(error: unknown): error is ConcurrencyError {
  return hasCode(error, CONCURRENCY_ERROR_CODE);
}

/**
 * Whether `error` is a {@linkcode HandleCommandError}, also one from another copy of the package.
 *
 * @example Check a caught error
 * ```ts
 * import { HandleCommandError, isHandleCommandError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isHandleCommandError(new HandleCommandError("x", { reason: "aborted" })));
 * assert.equal(isHandleCommandError(new Error("x")), false);
 * ```
 */
export function isHandleCommandError(error: unknown): error is HandleCommandError {
  return hasCode(error, HANDLE_COMMAND_ERROR_CODE);
}

/**
 * Whether `error` is a {@linkcode SpawnError}, also one from another copy of the package.
 *
 * @example Check a caught error
 * ```ts
 * import { isSpawnError, SpawnError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isSpawnError(new SpawnError("x")));
 * assert.equal(isSpawnError(new Error("x")), false);
 * ```
 */
export function isSpawnError(error: unknown): error is SpawnError {
  return hasCode(error, SPAWN_ERROR_CODE);
}

/**
 * Whether `error` is a {@linkcode DecodeError}, also one from another copy of the package.
 *
 * @example Check a caught error
 * ```ts
 * import { DecodeError, isDecodeError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isDecodeError(new DecodeError({ typeName: "t", id: "a", seqNo: 1, what: "event" })));
 * assert.equal(isDecodeError(new Error("x")), false);
 * ```
 */
export function isDecodeError(error: unknown): error is DecodeError {
  return hasCode(error, DECODE_ERROR_CODE);
}

/**
 * Whether `error` is a {@linkcode StorageError}, also one from another copy of the package.
 *
 * @example Check a caught error
 * ```ts
 * import { isStorageError, StorageError } from "@eventsourced/eventsourced";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isStorageError(new StorageError("x", { reason: "closed" })));
 * assert.equal(isStorageError(new Error("x")), false);
 * ```
 */
export function isStorageError(error: unknown): error is StorageError {
  return hasCode(error, STORAGE_ERROR_CODE);
}
