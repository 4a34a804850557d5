import { StorageError } from "../src/errors.ts";

/**
 * `opening` if it settles within `ms`, else a `StorageError` ("unavailable") with `message`;
 * what it opens later is closed by `discard`, so a slow server leaves no connection behind.
 */
export function within<T>(
  opening: Promise<T>,
  ms: number,
  message: string,
  discard: (late: T) => Promise<unknown>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new StorageError(message, { reason: "unavailable" }));
    }, ms);
  });
  opening.then((late) => timedOut && discard(late), () => {}).catch(() => {});
  return Promise.race([opening, timeout]).finally(() => clearTimeout(timer));
}

/** `error` with a message that names `address` (host:port), which could not be reached. */
export function unreachable(what: string, address: string, error: unknown): unknown {
  if (!(error instanceof StorageError) || error.reason !== "unavailable") return error;
  if (error.message.includes(address)) return error;
  return new StorageError(`${what}: ${error.message}`, { reason: error.reason, cause: error });
}
