// The HandleCommandErrors of the entity runtime, built in one place so that every message
// starts the same way and names the entity.

import { HandleCommandError, type HandleCommandFailure, isStorageError } from "./errors.ts";

/** A command's failure: "Cannot handle command for "<name>": <detail>". */
export function commandFailure(
  name: string,
  detail: string,
  reason: HandleCommandFailure,
  cause?: unknown,
): HandleCommandError {
  return new HandleCommandError(
    `Cannot handle command for "${name}": ${detail}`,
    cause === undefined ? { reason } : { reason, cause },
  );
}

/**
 * The failure of a persist that the log rejected with `cause`. Whatever the log answered
 * stands, even if the command's signal aborted meanwhile: only the log knows whether the write
 * was sent. A StorageError "outcome-unknown" says the events may be in the log, which a retry
 * must not assume they are not.
 */
export function persistFailure(
  name: string,
  cause: unknown,
  count: number,
  previous: number,
): HandleCommandError {
  const what = `persisting ${count} event(s) after seqNo ${previous}`;
  if (isStorageError(cause) && cause.reason === "outcome-unknown") {
    return commandFailure(
      name,
      `the outcome of ${what} is unknown, the events may have been written`,
      "persist-outcome-unknown",
      cause,
    );
  }
  return commandFailure(name, `${what} failed`, "persist-failed", cause);
}
