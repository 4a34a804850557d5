// The message of a caught value, for errors that describe what was being done when it failed.

/** The message of an `Error`, or the value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
