/**
 * Options for the adapters' own PostgreSQL client, made by `connect`.
 *
 * @module
 */

import postgres from "postgres";
import { describeError } from "../_sql/errors.ts";
import type { SqlNames } from "../_sql/names.ts";
import { describeSql } from "./_client.ts";

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
   * A connection URL, `postgres://user:password@host:port/database?sslmode=require`. Without
   * it the client uses the libpq environment variables (`PGHOST`, `PGUSER`, …).
   */
  url?: string;
  /** Connections in the pool. Default 10. */
  max?: number;
  /**
   * TLS: `true` or `"require"` (encrypt, no verification), `"verify-full"`, `"prefer"`, or Node
   * TLS options. Default: as the URL says, else off.
   */
  ssl?: boolean | "require" | "allow" | "prefer" | "verify-full" | object;
  /** Seconds to wait for a connection. Default 30. */
  connectTimeout?: number;
  /** Any other option of `postgres()` (postgres.js), passed through as is. */
  clientOptions?: Record<string, unknown>;
}

/**
 * Opens a postgres.js client and checks that the server answers, so a wrong address fails
 * here with a clear message rather than at the first write.
 */
export async function openClient(
  options: PostgresConnectOptions,
  names: SqlNames,
): Promise<postgres.Sql> {
  const clientOptions: postgres.Options<Record<string, postgres.PostgresType>> = {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 30,
    onnotice: () => {},
    // postgres.js looks up array types on each new connection in a query whose failure (a
    // connection terminated while it runs) escapes as an unhandled rejection; the adapter
    // sends arrays as literals instead and needs no type lookup.
    fetch_types: false,
    ...options.clientOptions as postgres.Options<Record<string, postgres.PostgresType>>,
  };
  if (options.ssl !== undefined) {
    clientOptions.ssl = options.ssl;
  }
  const sql = options.url === undefined
    ? postgres(clientOptions)
    : postgres(options.url, clientOptions);
  try {
    await sql.unsafe("select 1");
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw describeError(error, "Cannot connect to PostgreSQL", describeSql(sql), names);
  }
  return sql;
}
