// The sockets of a client that `connect()` opens, made here (postgres.js's `socket` option)
// rather than inside the driver, for two rules the driver does not keep on its own:
// - a socket that fails (EPIPE, ECONNRESET) is destroyed, so it always ends in `close`: the
//   driver fails the queries written to it and opens a fresh connection, where otherwise it
//   kept writing later queries into the dead socket and they waited for ever;
// - once the client is closed no socket is opened any more and the open ones are destroyed,
//   so no reconnect, and no connection lifetime timer of a reconnected socket, keeps the
//   process alive after `close()`.

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
   * socket is returned while it connects: the driver buffers its first messages into it, and
   * its errors reach the driver's handlers, which fail the waiting query and free the slot.
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
    socket.on("error", () => socket.destroy());
    return socket;
  };

  /** Opens no socket any more and destroys the open ones. */
  close(): void {
    this.#closed = true;
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
  }
}
