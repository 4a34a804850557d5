// The sockets of a client that `connect()` opens, made here (postgres.js's `socket` option)
// rather than inside the driver, so that closing the client ends them all: once the client is
// closed no socket is opened any more and the open ones are destroyed. postgres.js reconnects a
// connection on a timer and starts a connection lifetime timer (30 to 60 minutes) on every
// socket it opens; after its backends were terminated, a reconnect could land after `end()`
// and keep the process alive.

import net from "node:net";

/** What the socket factory reads of postgres.js's parsed options. */
interface SocketTarget {
  readonly host: readonly string[];
  readonly port: readonly number[];
  readonly path?: string | false;
}

/** The sockets of one client; `create` is the client's `socket` option. */
export class ClientSockets {
  readonly #open = new Set<net.Socket>();
  #closed = false;
  #next = 0;

  /**
   * Opens a socket to the next host (several hosts are tried in turn, as the driver does). The
   * socket is returned while it connects: the driver writes its first messages into it, and its
   * errors reach the driver's handlers, which fail the waiting query and free the slot.
   */
  readonly create = (options: SocketTarget): net.Socket => {
    if (this.#closed) {
      throw Object.assign(new Error("write CONNECTION_ENDED (the client is closed)"), {
        code: "CONNECTION_ENDED",
      });
    }
    const index = this.#next++ % Math.max(options.host.length, 1);
    const host = options.host[index] ?? "localhost";
    const port = options.port[index] ?? options.port[0] ?? 5432;
    const socket = options.path ? net.connect(options.path) : net.connect(port, host);
    // The driver reads these for TLS's server name and its error messages.
    Object.assign(socket, { host, port });
    this.#open.add(socket);
    socket.once("close", () => this.#open.delete(socket));
    return socket;
  };

  /** Opens no socket any more and destroys the open ones. */
  close(): void {
    this.#closed = true;
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
  }
}
