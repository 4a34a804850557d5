/**
 * Closing a connection an adapter opened and owns.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";

/** How long `close()` waits for the connection's socket to report that it closed. */
export const CLOSE_WAIT_MS = 5_000;

/**
 * Closes `nc`, waiting at most `ms` for it. nats.js resolves its close only on the socket's
 * close event, which a WebSocket closed while it was still connecting (a server that went away)
 * may never fire; `close()` must not wait forever for it. The connection counts as closed
 * either way: nothing is sent on it any more.
 */
export async function closeOwned(nc: NatsConnection, ms: number = CLOSE_WAIT_MS): Promise<void> {
  if (nc.isClosed()) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  try {
    await Promise.race([nc.close(), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}
