/**
 * Options for the adapters' own PostgreSQL client, made by `connect`.
 *
 * @module
 */

import postgres from "postgres";
import {
  anyValue,
  assertKnownKeys,
  integerAtLeast,
  numberAtLeast,
  type OptionRules,
  readOptions,
  secretOption,
  stringOption,
} from "../../src/_options.ts";
import { redactUrl } from "../../src/_redact.ts";
import { quote } from "../../src/_validate.ts";
import { describeError } from "../_sql/errors.ts";
import type { SqlNames } from "../_sql/names.ts";
import { describeSql } from "./_client.ts";
import { failoverClient } from "./_failover_pool.ts";
import { urlTls } from "./_url_tls.ts";

/**
 * How `PostgresEventLog.connect` and `PostgresSnapshotStore.connect` reach the server.
 *
 * @example A server that does not answer fails at connect
 * ```ts
 * import {
 *   type PostgresConnectOptions,
 *   PostgresEventLog,
 * } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const options: PostgresConnectOptions = {
 *   url: "postgres://app@127.0.0.1:1/shop", // nothing listens on port 1
 *   max: 20,
 *   connectTimeout: 5,
 *   clientOptions: { idle_timeout: 60 },
 * };
 * await assert.rejects(PostgresEventLog.connect(options), /Cannot connect to PostgreSQL/);
 * ```
 */
export interface PostgresConnectOptions {
  /**
   * A connection URL, `postgres://user:password@host:port/database?sslmode=verify-full`. Without
   * it the client uses the libpq environment variables (`PGHOST`, `PGUSER`, …). `sslrootcert=FILE`
   * names the CA (PEM) to verify the server against, certificate and host name.
   */
  url?: string;
  /** Connections in the pool. Default 10. */
  max?: number;
  /**
   * TLS: Node TLS options such as `{ ca }` (verify certificate and host name against that CA),
   * `"verify-full"` or `true` (verify against the CAs the runtime trusts), `"require"` (encrypt,
   * no verification), `"prefer"`, or `false`. Wins over the URL's `sslmode`, except that one
   * verifying less than the URL asks for is refused. Default: as the URL says, else off.
   */
  ssl?: boolean | "require" | "allow" | "prefer" | "verify-full" | object;
  /** Seconds to wait for a connection. Default 30. */
  connectTimeout?: number;
  /**
   * Any other option of `postgres()` (postgres.js), passed through as is (they override the
   * adapter's own: `socket` or `backoff` given here replace its socket handling and reconnect
   * pacing).
   */
  clientOptions?: Record<string, unknown>;
}

const CONNECT_RULES: OptionRules<PostgresConnectOptions> = {
  url: secretOption(
    stringOption<string | undefined>(undefined, /^postgres(ql)?:\/\//, "a postgres:// URL"),
    "url",
  ),
  max: integerAtLeast<number | undefined>(1, 10),
  ssl: anyValue<PostgresConnectOptions["ssl"]>(undefined),
  connectTimeout: numberAtLeast<number | undefined>(0.001, 30),
  clientOptions: {
    default: undefined,
    valid: (value) => value !== null && typeof value === "object" && !Array.isArray(value),
    expected: "an object of postgres.js options",
  },
};

/** The option names of {@linkcode PostgresConnectOptions}. */
export const CONNECT_OPTION_KEYS: readonly string[] = Object.keys(CONNECT_RULES);

// Seconds before a lost connection is opened again: at most a quarter second. postgres.js
// counts lost connections across the pool and waits up to 20 s after a few of them, which
// after every backend was terminated held all commands for the whole query timeout.
function reconnectDelay(retries: number): number {
  return Math.min(0.01 * 2 ** retries, 0.25) * (0.5 + Math.random() / 2);
}

/**
 * Opens a postgres.js client and checks that the server answers, so a wrong address fails
 * here with a clear message rather than at the first write. Refuses an unknown key (`uri` for
 * `url`) or a bad value with a TypeError or RangeError before anything is opened; keys in
 * `otherKeys` belong to the caller (its own options) and are left to it. The client replaces
 * its pool when a connection is lost (see `_failover_pool.ts`) and its `end()` leaves no
 * socket or timer behind.
 */
export async function openClient(
  options: PostgresConnectOptions,
  names: SqlNames,
  otherKeys: readonly string[] = [],
): Promise<postgres.Sql> {
  const given = (options ?? {}) as Record<string, unknown>;
  assertKnownKeys("PostgresConnectOptions", given, [...CONNECT_OPTION_KEYS, ...otherKeys]);
  const connectOnly = Object.fromEntries(
    Object.entries(given).filter(([key]) => CONNECT_OPTION_KEYS.includes(key)),
  );
  const read = readOptions("PostgresConnectOptions", connectOnly, CONNECT_RULES);
  const tls = urlTls(read.url, read.ssl);
  const sql = failoverClient((sockets) => {
    // `socket` is an option of postgres.js that its types do not list.
    const clientOptions: postgres.Options<Record<string, postgres.PostgresType>> & {
      socket?: unknown;
    } = {
      max: read.max ?? 10,
      connect_timeout: read.connectTimeout ?? 30,
      onnotice: () => {},
      // postgres.js looks up array types on each new connection in a query whose failure (a
      // connection terminated while it runs) escapes as an unhandled rejection; the adapter
      // sends arrays as literals instead and needs no type lookup.
      fetch_types: false,
      backoff: reconnectDelay,
      socket: sockets.create,
      ...read.clientOptions as postgres.Options<Record<string, postgres.PostgresType>>,
    };
    if (tls.ssl !== undefined) {
      clientOptions.ssl = tls.ssl as NonNullable<PostgresConnectOptions["ssl"]>;
    }
    return tls.url === undefined ? postgres(clientOptions) : clientOfUrl(tls.url, clientOptions);
  });
  try {
    await sql.unsafe("select 1");
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw describeError(error, "Cannot connect to PostgreSQL", describeSql(sql), names);
  }
  return sql;
}

// postgres.js reads the URL with `new URL`, whose error carries the whole URL as `input`: a
// URL it cannot read fails with an error of the adapter's own that names it without secrets.
function clientOfUrl(
  url: string,
  options: postgres.Options<Record<string, postgres.PostgresType>>,
) {
  try {
    return postgres(url, options);
  } catch (error) {
    throw new TypeError(
      `Invalid PostgresConnectOptions option url ${quote(redactUrl(url))}: ` +
        `expected a well-formed postgres:// URL (${error instanceof Error ? error.name : "error"})`,
    );
  }
}
