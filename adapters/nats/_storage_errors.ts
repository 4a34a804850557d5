// How a failure of the NATS client or of the JetStream API becomes a StorageError with a reason
// a program can act on. Reads and writes differ in one rule: a write whose request may have
// reached the server but whose answer did not come back (timeout, connection lost) has an
// unknown outcome, while a read that fails the same way changed nothing.

import { isStorageError, StorageError, type StorageFailure } from "../../src/errors.ts";
import { errorText } from "../../src/_error_text.ts";

/** JetStream's error code for a failed expected-last-subject-sequence check. */
export const WRONG_LAST_SEQUENCE = 10071;
/** JetStream's error code for a missing stream. */
export const STREAM_NOT_FOUND = 10059;
/** JetStream's error code for a missing message. */
export const NO_MESSAGE_FOUND = 10037;
/** JetStream's error code for an account without JetStream. */
const JETSTREAM_NOT_ENABLED_FOR_ACCOUNT = 10039;
/** JetStream's error code for a JetStream that is off on the server. */
const JETSTREAM_NOT_ENABLED = 10076;
/** JetStream's error code for a message larger than the stream's `max_msg_size`. */
const MESSAGE_TOO_LARGE = 10054;

/** The JetStream API error code of `error`, if it has one. */
export function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Whether the request was refused because nobody listens (no stream, no JetStream). */
function isNoResponders(error: unknown): boolean {
  return someInChain(error, (e) =>
    e.name === "NoResponders" || e.name === "NoRespondersError" ||
    (e as { isNoResponders?: () => boolean }).isNoResponders?.() === true ||
    /no responders/i.test(e.message));
}

function someInChain(error: unknown, test: (error: Error) => boolean): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (test(e)) return true;
  }
  return false;
}

/**
 * Why `error` happened, for a call that changes nothing (`"read"`) or for a write whose request
 * has been handed to the client (`"write"`). A write answered by the server with an API error
 * was refused, so it is not `outcome-unknown`.
 */
export function failureOf(error: unknown, kind: "read" | "write"): StorageFailure {
  if (isStorageError(error)) return error.reason;
  const code = apiCode(error);
  if (code === STREAM_NOT_FOUND) return "schema-missing";
  if (code === JETSTREAM_NOT_ENABLED || code === JETSTREAM_NOT_ENABLED_FOR_ACCOUNT) {
    return "invalid-configuration";
  }
  if (code === MESSAGE_TOO_LARGE) return "too-large";
  if (error instanceof Error && error.name === "JetStreamApiError") return "failed";
  if (isNoResponders(error)) return "schema-missing";
  if (
    someInChain(
      error,
      (e) =>
        e.name === "PermissionViolationError" || e.name === "AuthorizationError" ||
        /permissions? violation|authorization violation/i.test(e.message),
    )
  ) {
    return "permission-denied";
  }
  if (someInChain(error, (e) => /max_payload|maximum payload/i.test(e.message))) {
    return "too-large";
  }
  if (kind === "write") return "outcome-unknown";
  if (
    someInChain(error, (e) => e.name === "TimeoutError" || /timeout|timed out/i.test(e.message))
  ) {
    return "timeout";
  }
  if (
    someInChain(
      error,
      (e) =>
        e.name === "ClosedConnectionError" || e.name === "DrainingConnectionError" ||
        /connection (closed|draining)/i.test(e.message),
    )
  ) {
    return "closed";
  }
  if (
    someInChain(
      error,
      (e) => e.name === "ConnectionError" || /disconnect|refused|ECONNRE/i.test(e.message),
    )
  ) {
    return "unavailable";
  }
  return "failed";
}

/**
 * `error` as a StorageError whose message starts with `what` ("Cannot read …"), with `error`
 * as its cause; a StorageError keeps its reason.
 */
export function storageError(what: string, error: unknown, kind: "read" | "write"): StorageError {
  const reason = failureOf(error, kind);
  const outcome = reason === "outcome-unknown" ? " (the write may or may not be stored)" : "";
  return new StorageError(`${what}: ${errorText(error)}${outcome}`, { reason, cause: error });
}
