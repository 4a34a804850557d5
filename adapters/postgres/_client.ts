// postgres.js seen through the shared SqlClient shape.

import type postgres from "postgres";
import type { SqlClient } from "../_sql/client.ts";
import { StorageError } from "../../src/errors.ts";
import { onAbort } from "../../src/_abort.ts";
import { QueryDeadlines } from "./_query_deadlines.ts";
import { onPoolEnded, poolGeneration, reportConnectionLost } from "./_failover_pool.ts";

/** Where `sql` connects, for error messages: hosts, ports and database, no credentials. */
export function describeSql(sql: postgres.Sql): string {
  const options = sql.options as Partial<postgres.ParsedOptions> | undefined;
  const hosts = options?.host ?? [];
  const ports = options?.port ?? [];
  const where = hosts.map((host, i) => `${host}:${ports[i] ?? ports[0] ?? 5432}`).join(",");
  return `${where || "the configured server"}${options?.database ? `/${options.database}` : ""}`;
}

/**
 * Arrays go to the server as array literals (`{"a","b",NULL}`) that the statements cast
 * (`$1::text[]`): postgres.js then needs no array type lookup, which clients opened with
 * `fetch_types: false` skip, and which otherwise runs on every new connection in a query whose
 * failure escapes as an unhandled rejection.
 */
function toParameter(value: unknown): unknown {
  return Array.isArray(value) ? arrayLiteral(value) : value;
}

// The characters an element of an array literal escapes with a backslash.
const ESCAPED = /[\\"]/;
const ESCAPED_ALL = /[\\"]/g;

function arrayLiteral(values: readonly unknown[]): string {
  const items = values.map((item) => {
    if (item === null || item === undefined) return "NULL";
    if (typeof item === "number" || typeof item === "bigint") return String(item);
    if (typeof item === "boolean") return item ? "t" : "f";
    if (typeof item === "string") {
      return ESCAPED.test(item) ? `"${item.replace(ESCAPED_ALL, (c) => `\\${c}`)}"` : `"${item}"`;
    }
    throw new TypeError(`Cannot send a ${typeof item} inside an array parameter`);
  });
  return `{${items.join(",")}}`;
}

// How long an aborted query may still run before the server is asked to cancel it.
const CANCEL_AFTER_MS = 100;

/** The default of `queryTimeout`, in milliseconds. */
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

// Driver codes of a connection that died under a query: the client that `connect()` opened
// then moves to a fresh pool (a client of the caller reconnects by itself).
const LOST_CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "57P01",
  "57P02",
]);

/**
 * Wraps a postgres.js client; `prepare` uses named prepared statements (faster). A query that
 * has no answer after `queryTimeout` ms (checked every quarter of it, at most every second)
 * fails with a StorageError (reason `timeout`) and is cancelled at the server: a connection
 * that died without the driver noticing must not hold a command for ever. Driver errors are
 * passed on as they are (`adapters/_sql/errors.ts` reads their codes); a lost connection of a
 * client that `connect()` opened also moves that client to a fresh pool.
 */
export function postgresClient(
  sql: postgres.Sql,
  prepare: boolean,
  queryTimeout: number = DEFAULT_QUERY_TIMEOUT_MS,
): SqlClient {
  const deadlines = new QueryDeadlines(queryTimeout);
  const description = describeSql(sql);
  return {
    description,
    async query(text, params, signal) {
      if (signal?.aborted) throw signal.reason;
      const generation = poolGeneration(sql);
      const query = sql.unsafe(
        text,
        params.map(toParameter) as unknown as postgres.ParameterOrJSON<never>[],
        { prepare },
      ).values();
      // An abort lets a short query finish (its result is dropped) and cancels one that is
      // still running after a moment. A PostgreSQL cancel request names the server process,
      // not the query: sent while the answer is already on its way, it would cancel whatever
      // that pooled connection runs next. Page reads and appends take milliseconds, so only a
      // query that is stuck (a lock wait, a slow server) is worth the risk.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const removeAbort = onAbort(signal, () => {
        timer = setTimeout(() => cancel(query), CANCEL_AFTER_MS);
      });
      try {
        return await new Promise<unknown[][]>((resolve, reject) => {
          const removeEnded = onPoolEnded(sql, generation, () => {
            unwatch();
            reject(clientEnded(description));
          });
          const unwatch = deadlines.watch(() => {
            removeEnded();
            cancel(query);
            reportConnectionLost(sql, generation);
            reject(
              new StorageError(
                `no answer from PostgreSQL within ${queryTimeout} ms (${description})`,
                { reason: "timeout" },
              ),
            );
          });
          (query as unknown as Promise<unknown[][]>).then(
            (rows) => {
              unwatch();
              removeEnded();
              resolve(rows);
            },
            (error) => {
              unwatch();
              removeEnded();
              reject(driverFailure(sql, generation, error));
            },
          );
        });
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        removeAbort();
      }
    },
    async exec(script) {
      await sql.unsafe(script).simple();
    },
    async listen(channel, onPayload) {
      const meta = await sql.listen(channel, onPayload);
      return () => meta.unlisten();
    },
  };
}

function cancel(query: postgres.PendingQuery<postgres.Row[]> | unknown): void {
  Promise.resolve((query as { cancel(): unknown }).cancel()).catch(() => {});
}

// A query left queued in a pool that ended: it was never sent.
function clientEnded(description: string): Error {
  return Object.assign(
    new Error(`write CONNECTION_ENDED ${description} (the client was closed before the query ran)`),
    { code: "CONNECTION_ENDED" },
  );
}

function driverFailure(sql: postgres.Sql, generation: number, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && LOST_CONNECTION_CODES.has(code)) {
    reportConnectionLost(sql, generation);
  }
  return error;
}

/** Checks a `queryTimeout` option: a positive number of milliseconds, or the default. */
export function positiveTimeout(value: number | undefined): number {
  if (value === undefined) return DEFAULT_QUERY_TIMEOUT_MS;
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Invalid queryTimeout ${String(value)}: expected a positive number of milliseconds`,
    );
  }
  return value;
}
