// postgres.js seen through the shared SqlClient shape.

import type postgres from "postgres";
import type { SqlClient } from "../_sql/client.ts";

/** Where `sql` connects, for error messages: hosts, ports and database, no credentials. */
export function describeSql(sql: postgres.Sql): string {
  const options = sql.options as Partial<postgres.ParsedOptions> | undefined;
  const hosts = options?.host ?? [];
  const ports = options?.port ?? [];
  const where = hosts.map((host, i) => `${host}:${ports[i] ?? ports[0] ?? 5432}`).join(",");
  return `${where || "the configured server"}${options?.database ? `/${options.database}` : ""}`;
}

/** Wraps a postgres.js client; `prepare` uses named prepared statements (faster). */
export function postgresClient(sql: postgres.Sql, prepare: boolean): SqlClient {
  return {
    description: describeSql(sql),
    async query(text, params, signal) {
      if (signal?.aborted) throw signal.reason;
      const query = sql.unsafe(text, params as unknown as postgres.ParameterOrJSON<never>[], {
        prepare,
      }).values();
      // cancel() sends the server a cancel request for this query; the connection goes back to
      // the pool as soon as the server answers.
      const onAbort = () => query.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        return await query as unknown as unknown[][];
      } finally {
        signal?.removeEventListener("abort", onAbort);
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
