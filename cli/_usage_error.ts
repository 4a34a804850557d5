/**
 * A command line the tool cannot run: an unknown command or option, a missing or malformed
 * argument. It ends with exit code 2, before anything is opened.
 */
export class UsageError extends Error {
  /** Creates the error with its message. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
