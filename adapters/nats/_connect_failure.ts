// The words added to a failed WebSocket connect so that it says what was likely wrong. Some
// runtimes' WebSockets (Node's) report a TLS verification failure with no reason at all, and a
// server that requires TLS answers `ws://` with an HTTP error, so the URL's scheme decides the hint.

/** Words of runtimes' WebSocket errors that already name a certificate problem. */
const NAMES_THE_CERTIFICATE = /certificate|issuer|altname|handshake/i;

/**
 * The hint to append to `detail`, the runtime's reason for failing to connect to `servers`;
 * empty when the reason already names the certificate.
 */
export function connectFailureHint(servers: readonly string[], detail: string): string {
  if (NAMES_THE_CERTIFICATE.test(detail)) return "";
  const hints: string[] = [];
  if (servers.some((url) => /^wss:/i.test(url))) {
    hints.push(
      "if the server is running, TLS verification likely failed: this runtime does not trust " +
        "the certificate authority that signed the server's certificate, or the certificate " +
        "does not name this host",
    );
  }
  if (servers.some((url) => /^ws:/i.test(url))) {
    hints.push("if the server requires TLS, connect with wss://");
  }
  return hints.length === 0 ? "" : ` (${hints.join("; ")})`;
}
