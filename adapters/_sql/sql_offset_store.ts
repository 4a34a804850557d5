// The SQL of the PostgreSQL and PGlite offset stores: one row per projection name in the
// offsets table of the shared schema (schema.ts), moved by compare-and-set so that a runner that
// lost its name cannot overwrite the offset of the runner that took it.

import type { NameOptions, SqlNames } from "./names.ts";

/**
 * Where the offsets table lives (`<schema>.<tablePrefix>projection_offsets`): the same names as
 * the event log's, whose `setup()` creates it too.
 *
 * @example Offsets in their own schema
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { type OffsetTableOptions, PgliteOffsetStore } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * const options: OffsetTableOptions = { schema: "read_models", tablePrefix: "shop_" };
 * const offsetStore = new PgliteOffsetStore(db, options);
 * await offsetStore.setup();
 * const { rows } = await db.query<{ table_name: string }>(
 *   "select table_name from information_schema.tables where table_schema = 'read_models' " +
 *     "and table_name like '%offsets'",
 * );
 * assert.deepEqual(rows.map((row) => row.table_name), ["shop_projection_offsets"]);
 * await db.close();
 * ```
 */
export type OffsetTableOptions = NameOptions;

/** The statements of an offsets table, with `$n` parameters. */
export interface OffsetStatements {
  /** The quoted, schema-qualified table, for messages. */
  readonly table: string;
  /** The first int4 key of the advisory locks on projection names of this table. */
  readonly lockSpace: number;
  /** `$1` name: makes sure the row exists (at offset 0). */
  readonly ensure: string;
  /** `$1` name: selects the position. */
  readonly load: string;
  /** `$1` name, `$2` expected, `$3` new: moves the offset if it is the expected one. */
  readonly move: string;
  /**
   * As `move`, and only while the backend `$4` (pid) holds the advisory lock (`lockSpace`,
   * `$5`), with `$5` the name's key as an unsigned 32-bit number (as `pg_locks` shows it).
   */
  readonly moveLocked: string;
}

/** FNV-1a over UTF-16 code units, as a signed 32-bit integer (an int4 lock key). */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** The statements of the offsets table of `names`. */
export function offsetStatements(names: SqlNames): OffsetStatements {
  const table = names.offsets;
  const lockSpace = hash32(`eventsourced projection ${table}`);
  return {
    table,
    lockSpace,
    ensure: `insert into ${table} (name, position) values ($1, 0) on conflict (name) do nothing`,
    load: `select position from ${table} where name = $1`,
    move: `update ${table} set position = $3, updated_at = now() where name = $1 and position = $2`,
    moveLocked:
      `update ${table} set position = $3, updated_at = now() where name = $1 and position = $2
  and exists (select 1 from pg_catalog.pg_locks where locktype = 'advisory' and granted
    and pid = $4::int and classid = ${lockSpace >>> 0}::oid and objid = $5::oid
    and objsubid = 2)`,
  };
}

/** The message of an offset conflict. */
export function conflictMessage(
  name: string,
  change: { from: number; to: number },
  lock = false,
): string {
  return `Cannot store offset ${change.to} of projection "${name}": expected the stored offset ` +
    `to be ${change.from}` +
    (lock
      ? `, but another runner has moved it, or this runner has lost its lock (its connection ended)`
      : `, but another runner has moved it`);
}
