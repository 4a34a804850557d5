// Turns driver failures into errors that say what was being done and why it failed; the
// driver's error stays the `cause`.

import type { SqlNames } from "./names.ts";

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  CONNECT_TIMEOUT: "connection timed out",
  CONNECTION_CLOSED: "connection closed",
  CONNECTION_ENDED: "client already closed",
  CONNECTION_DESTROYED: "client closed during the call",
};

const SERVER_CODES: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "access refused",
  "3D000": "database does not exist",
  "57P01": "connection terminated by the server (an administrator command or a shutdown)",
  "53300": "too many connections",
};

/** The code of a driver error (`code` of postgres.js and PGlite errors, `errno` names). */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Wraps `error` in an Error whose message is `${what}: ${why}`; errors that already carry an
 * eventsourced code (ConcurrencyError and friends) and abort reasons are returned as they are.
 */
export function describeError(
  error: unknown,
  what: string,
  where: string,
  names: SqlNames,
): unknown {
  const code = errorCode(error);
  if (code === undefined || code.startsWith("EVENTSOURCED_")) return error;
  const message = error instanceof Error ? error.message : String(error);
  let why: string;
  if (code in CONNECTION_CODES) {
    why = `cannot reach PostgreSQL at ${where}: ${CONNECTION_CODES[code]} (${message})`;
  } else if (code in SERVER_CODES) {
    why = `PostgreSQL at ${where}: ${SERVER_CODES[code]} (${message})`;
  } else if (code === "42P01" || code === "42883" || code === "3F000") {
    why = `the tables of ${names.events.replace(/_events"$/, '_*"')} are missing (${message}); ` +
      "call setup() once before use";
  } else {
    why = `${message} (SQLSTATE ${code})`;
  }
  return new Error(`${what}: ${why}`, { cause: error });
}
