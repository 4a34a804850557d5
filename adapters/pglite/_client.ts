// PGlite seen through the shared SqlClient shape. PGlite runs one query at a time on its one
// connection; queries cannot be cancelled, so an abort takes effect when the query returns.

import type { PGliteInterface } from "@electric-sql/pglite";
import type { SqlClient } from "../_sql/client.ts";

/** What the adapters use of a PGlite instance (a `PGlite`, or anything with the same calls). */
export type PgliteClient = Pick<PGliteInterface, "query" | "exec">;

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
