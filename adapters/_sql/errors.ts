// Turns driver failures into StorageErrors that say what was being done, why it failed and what
// a program can do about it (`reason`); the driver's error stays the `cause`. A write whose
// request may have reached the server is `outcome-unknown`, never anything that says "not
// written": only a failure that provably happened before sending, or an answer of the server
// refusing the statement, says so (see docs/event-log-rules.md).

import { isStorageError, StorageError, type StorageFailure } from "../../src/errors.ts";
import { errorText } from "../../src/_error_text.ts";
import type { SqlNames } from "./names.ts";

/** What `describeError` needs to know about the call that failed. */
export interface ErrorContext {
  /** Where the client connects (no credentials). */
  readonly where: string;
  /** The names of the tables, for the message about a missing schema. */
  readonly names: SqlNames;
  /** Whether the call writes: a write cut off after sending has an unknown outcome. */
  readonly write: boolean;
}

// Failures before the connection carried the call: nothing was sent.
const NOT_CONNECTED: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  CONNECT_TIMEOUT: "connection timed out",
  "53300": "too many connections",
  "57P03": "the server is not accepting connections yet",
};

// The connection went away while the call was on it: a write may or may not have committed.
const CONNECTION_LOST: Record<string, string> = {
  CONNECTION_CLOSED: "connection closed",
  CONNECTION_DESTROYED: "client closed during the call",
  ECONNRESET: "connection reset",
  EPIPE: "connection broken",
  ETIMEDOUT: "connection timed out",
  "57P01": "connection terminated by the server (an administrator command or a shutdown)",
  "57P02": "connection terminated by a server crash",
  "08006": "connection failure",
  "08003": "connection does not exist",
};

// TLS refused before anything was sent: the server's certificate failed verification, or the
// server has no TLS. A retry meets the same certificate, so these are configuration errors.
const UNTRUSTED_CA = "its certificate is not signed by a CA this client trusts";
const TLS_REFUSED: Record<string, string> = {
  TLS_NOT_OFFERED: "the server does not offer TLS (ssl = off), and this client requires it",
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate does not name the host this client connects to",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED_CA,
  UNABLE_TO_GET_ISSUER_CERT: UNTRUSTED_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED_CA,
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is self-signed and not trusted",
  CERT_UNTRUSTED: UNTRUSTED_CA,
  CERT_HAS_EXPIRED: "its certificate has expired",
  CERT_NOT_YET_VALID: "its certificate is not valid yet",
};

const SERVER_REASONS: Record<string, [StorageFailure, string]> = {
  "28P01": ["permission-denied", "authentication failed"],
  "28000": ["permission-denied", "access refused"],
  "42501": ["permission-denied", "permission denied"],
  "3D000": ["invalid-configuration", "database does not exist"],
  "0A000": ["invalid-configuration", "not supported"],
  "25006": ["unavailable", "the server is read-only (a standby?)"],
  "54000": ["too-large", "a value is larger than the server allows"],
  "54001": ["too-large", "a statement is too complex for the server"],
  "53200": ["too-large", "the server ran out of memory"],
};

// Undefined table, function, schema; and column, as in tables set up by an earlier release
// whose schema setup() has not upgraded yet.
const SCHEMA_MISSING = new Set(["42P01", "42883", "3F000", "42703"]);

/** The code of a driver error (`code` of postgres.js and PGlite errors, `errno` names). */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Wraps a driver failure in a StorageError whose message is `${what}: ${why}`. Errors that
 * already carry an eventsourced code (ConcurrencyError, StorageError and friends) are returned
 * as they are, except a timed-out write, which becomes `outcome-unknown`.
 */
export function describeError(
  error: unknown,
  what: string,
  where: ErrorContext | string,
  names?: SqlNames,
): unknown {
  // (error, what, where, names) is the older form, for a call that writes nothing.
  const context = typeof where === "string" ? { where, names: names!, write: false } : where;
  return describe(error, what, context);
}

function describe(error: unknown, what: string, context: ErrorContext): unknown {
  const { where, write } = context;
  if (isStorageError(error)) {
    if (!write || error.reason !== "timeout") return error;
    return new StorageError(`${what}: ${error.message}; the write may have landed`, {
      reason: "outcome-unknown",
      cause: error,
    });
  }
  const code = errorCode(error);
  if (code?.startsWith("EVENTSOURCED_")) return error;
  const message = errorText(error);
  const fail = (reason: StorageFailure, why: string) =>
    new StorageError(`${what}: ${why}`, { reason, cause: error });
  if (code !== undefined && code in NOT_CONNECTED) {
    return fail(
      "unavailable",
      `cannot reach PostgreSQL at ${where}: ${NOT_CONNECTED[code]} (${message})`,
    );
  }
  if (code !== undefined && code in TLS_REFUSED) {
    return fail(
      "invalid-configuration",
      `TLS with PostgreSQL at ${where} refused: ${TLS_REFUSED[code]} (${message})`,
    );
  }
  if (code === "CONNECTION_ENDED") {
    return fail("closed", `the client of ${where} was already closed (${message})`);
  }
  if (code !== undefined && code in CONNECTION_LOST) {
    const why = `lost the connection to PostgreSQL at ${where}: ${CONNECTION_LOST[code]}`;
    return write
      ? fail("outcome-unknown", `${why}; the write may have landed (${message})`)
      : fail("unavailable", `${why} (${message})`);
  }
  if (code !== undefined && SCHEMA_MISSING.has(code)) {
    return fail(
      "schema-missing",
      `the tables of ${context.names.events.replace(/_events"$/, '_*"')} are missing or ` +
        `older than this release (${message}); call setup() once before use (it creates or ` +
        `upgrades them)`,
    );
  }
  if (code !== undefined && code in SERVER_REASONS) {
    const [reason, why] = SERVER_REASONS[code]!;
    return fail(reason, `PostgreSQL at ${where}: ${why} (${message})`);
  }
  if (code === "57014") {
    // Cancelled at the server (a timeout or an abort of this client).
    return write
      ? fail(
        "outcome-unknown",
        `the statement was cancelled; the write may have landed (${message})`,
      )
      : fail("timeout", `the statement was cancelled (${message})`);
  }
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    // The server answered with an error: the statement's transaction did not commit.
    return fail("failed", `${message} (SQLSTATE ${code})`);
  }
  if (/PGlite is closed/i.test(message)) return fail("closed", `PGlite is closed (${message})`);
  if (/no answer from PostgreSQL within/.test(message)) {
    return write
      ? fail("outcome-unknown", `${message}; the write may have landed`)
      : fail("timeout", message);
  }
  // Anything else happened somewhere between sending and answering, as far as we can tell.
  return write
    ? fail("outcome-unknown", `${message}; the write may have landed`)
    : fail("failed", code === undefined ? message : `${message} (${code})`);
}

/** The StorageError of a call on a closed log or store. */
export function closedError(what: string, thing: string): StorageError {
  return new StorageError(`${what}: the ${thing} is closed`, { reason: "closed" });
}
