import { isConcurrencyError, isStorageError } from "../src/errors.ts";
import { UsageError } from "./_usage_error.ts";

/** The message and exit code of a command that failed. */
export interface Failure {
  readonly message: string;
  readonly exitCode: 1 | 2;
}

/**
 * How `error` is reported: usage errors and invalid arguments (the library's `TypeError` and
 * `RangeError` start with "Invalid") exit 2, everything else 1. Every secret of the command
 * line (passwords, tokens) is replaced by `***`, whatever message a driver built from it.
 */
export function failureOf(error: unknown, secrets: readonly string[]): Failure {
  let message = error instanceof Error ? error.message || error.name : String(error);
  if (isStorageError(error) && error.reason === "unavailable" && error.cause instanceof Error) {
    const detail = error.cause.message;
    if (detail !== "" && !message.includes(detail)) message += ` (${detail})`;
  }
  if (isConcurrencyError(error)) message = `Conflict: ${message}`;
  for (const secret of secrets) {
    if (secret.length > 0) message = message.split(secret).join("***");
  }
  const invalid = (error instanceof TypeError || error instanceof RangeError) &&
    message.startsWith("Invalid");
  return { message, exitCode: error instanceof UsageError || invalid ? 2 : 1 };
}
