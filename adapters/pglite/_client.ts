// PGlite seen through the shared SqlClient shape. PGlite runs one query at a time on its one
// connection; queries cannot be cancelled, so an abort takes effect when the query returns.

import type { SqlClient } from "../_sql/client.ts";

/**
 * What the adapters use of a PGlite instance: a `PGlite` from `@electric-sql/pglite`, or
 * anything with the same `query` and `exec` (a `PGliteWorker`, say).
 */
export interface PgliteClient {
  /** Runs one statement with parameters. */
  query<T>(
    query: string,
    params?: unknown[],
    options?: { rowMode?: "array" | "object" },
  ): Promise<{ rows: T[] }>;
  /** Runs a script of statements without parameters. */
  exec(query: string): Promise<unknown>;
}

/** Wraps a PGlite instance; `description` names it in error messages. */
export function pgliteClient(db: PgliteClient, description: string): SqlClient {
  return {
    description,
    async query(text, params, signal) {
      if (signal?.aborted) throw signal.reason;
      const result = await db.query<unknown[]>(text, params as unknown[], { rowMode: "array" });
      return result.rows;
    },
    async exec(script) {
      await db.exec(script);
    },
  };
}
