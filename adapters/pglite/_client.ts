// PGlite seen through the shared SqlClient shape. PGlite runs one query at a time on its one
// connection; queries cannot be cancelled, so an abort takes effect when the query returns.

import type { SqlClient } from "../_sql/client.ts";

/**
 * What the adapters use of a PGlite instance: a `PGlite` from `@electric-sql/pglite`, or
 * anything with the same `query` and `exec` (a `PGliteWorker`, say).
 *
 * @example Log the statements of a shared PGlite
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { type PgliteClient, PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = await PGlite.create();
 * const statements: string[] = [];
 * const logged: PgliteClient = {
 *   query(query, params, options) {
 *     statements.push(query);
 *     return db.query(query, params, options);
 *   },
 *   exec(query) {
 *     statements.push(query);
 *     return db.exec(query);
 *   },
 * };
 * const log = new PgliteEventLog(logged);
 * await log.setup();
 * await log.persist("cart", "c-1", null, [new Uint8Array([1])]);
 * assert.equal(await log.lastSeqNo("cart", "c-1"), 1);
 * assert.ok(statements.length >= 3);
 * await log.close();
 * await db.close(); // the log never closes a client it was given
 * ```
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
