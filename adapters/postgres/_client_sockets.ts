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
  readonly ssl?: unknown;
}

// The message that asks the server for TLS: length 8, request code 80877103.
const SSL_REQUEST = [0, 0, 0, 8, 4, 210, 22, 47];

function isSslRequest(chunk: unknown): boolean {
  return chunk instanceof Uint8Array && chunk.length === SSL_REQUEST.length &&
    SSL_REQUEST.every((byte, i) => chunk[i] === byte);
}

/**
 * Makes a server's "N" (no TLS) answer to the TLS request fail the connection with the code
 * `TLS_NOT_OFFERED`. postgres.js goes on with the TLS handshake after an "N" unless `ssl` is
 * `"prefer"`, and the server then drops the connection, which reads as a mere connection reset.
 */
function refuseWithoutTls(socket: net.Socket, where: string): void {
  let asked = false;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    if (isSslRequest(args[0])) asked = true;
    return write(...args);
  }) as typeof socket.write;
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (!asked || event !== "data") return emit(event, ...args);
    asked = false;
    const answer = args[0];
    if (!(answer instanceof Uint8Array) || answer[0] !== 78) return emit(event, ...args);
    // The driver's error listener fails the waiting query; its data listener never hears the
    // answer, so it starts no handshake on a socket that is about to close.
    emit(
      "error",
      Object.assign(
        new Error(`the server at ${where} answered the request for TLS with "N"`),
        { code: "TLS_NOT_OFFERED" },
      ),
    );
    socket.destroy();
    return true;
  }) as typeof socket.emit;
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
    // The driver reads these for TLS's server name and its error messages; node:tls checks the
    // certificate against `_host` when there is no server name (an IP address), and against
    // "localhost" when that is missing too, which would accept a certificate for localhost.
    Object.assign(socket, { host, port, _host: host });
    if (!options.path && options.ssl && options.ssl !== "prefer") {
      refuseWithoutTls(socket, `${host}:${port}`);
    }
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
