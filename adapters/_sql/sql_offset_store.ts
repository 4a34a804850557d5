// The SQL of the PostgreSQL and PGlite offset stores: one row per projection name in the
// offsets table of the shared schema (schema.ts), and for a projection over several types one
// row per name and type in the type offsets table; all moved by compare-and-set so that a runner
// that lost its name cannot overwrite the offsets of the runner that took it.

import type { NameOptions, SqlNames } from "./names.ts";
import type { OffsetChange } from "../../projection/offset_store.ts";

/**
 * Where the offsets tables live (`<schema>.<tablePrefix>projection_offsets`, and
 * `<schema>.<tablePrefix>type_offsets` for projections over several types): the same names as
 * the event log's, whose `setup()` creates them too.
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
 *     "and table_name like '%offsets' order by table_name",
 * );
 * assert.deepEqual(rows.map((row) => row.table_name), ["shop_projection_offsets", "shop_type_offsets"]);
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
  /** The table of the offsets per type (projections over several types), for messages. */
  readonly typeTable: string;
  /** `$1` name: selects `type_name` and `position` of every type stored under the name. */
  readonly typeLoad: string;
  /**
   * `$1` name, `$2` the changes as JSON (see {@linkcode typeChangesJson}): makes sure a row
   * exists (at offset 0) for every type changed.
   */
  readonly typeEnsure: string;
  /**
   * `$1` name, `$2` the changes as JSON: moves each type's offset from its `from` to its `to`
   * where it is still `from`; the count of rows moved tells whether all were.
   */
  readonly typeMove: string;
  /** As `typeMove`, and only while the backend `$3` (pid) holds the name's lock `$4`. */
  readonly typeMoveLocked: string;
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
  const typeTable = names.typeOffsets;
  const lockSpace = hash32(`eventsourced projection ${table}`);
  const typeMove = `update ${typeTable} as t set position = c."to", updated_at = now()
  from jsonb_to_recordset($2::text::jsonb) as c(type_name text, "from" bigint, "to" bigint)
  where t.name = $1 and t.type_name = c.type_name and t.position = c."from"`;
  return {
    table,
    lockSpace,
    ensure: `insert into ${table} (name, position) values ($1, 0) on conflict (name) do nothing`,
    load: `select position from ${table} where name = $1`,
    move: `update ${table} set position = $3, updated_at = now() where name = $1 and position = $2`,
    moveLocked:
      `update ${table} set position = $3, updated_at = now() where name = $1 and position = $2
  and ${lockHeld(lockSpace, 4, 5)}`,
    typeTable,
    typeLoad: `select type_name, position from ${typeTable} where name = $1`,
    typeEnsure: `insert into ${typeTable} (name, type_name, position)
  select $1, c.type_name, 0 from jsonb_to_recordset($2::text::jsonb) as c(type_name text)
  on conflict (name, type_name) do nothing`,
    typeMove: typeMove,
    typeMoveLocked: `${typeMove}\n  and ${lockHeld(lockSpace, 3, 4)}`,
  };
}

// The condition that backend `$pid` holds the advisory lock (lockSpace, `$key`).
function lockHeld(lockSpace: number, pid: number, key: number): string {
  return `exists (select 1 from pg_catalog.pg_locks where locktype = 'advisory' and granted
    and pid = $${pid}::int and classid = ${lockSpace >>> 0}::oid and objid = $${key}::oid
    and objsubid = 2)`;
}

/** The changes of a `commitTypes`, as the JSON parameter of the per-type statements. */
export function typeChangesJson(changes: ReadonlyMap<string, OffsetChange>): string {
  return JSON.stringify(
    [...changes].map(([typeName, { from, to }]) => ({ type_name: typeName, from, to })),
  );
}

/** The offsets of `typeNames` among the rows of `typeLoad` (`0` for a type without a row). */
export function typeOffsetsOf(
  rows: Iterable<Record<string, unknown>>,
  typeNames: readonly string[],
): ReadonlyMap<string, number> {
  const stored = new Map<string, number>();
  for (const row of rows) stored.set(String(row.type_name), Number(row.position));
  return new Map(typeNames.map((typeName) => [typeName, stored.get(typeName) ?? 0]));
}

/** The message of an offset conflict of a projection over several types. */
export function typeConflictMessage(
  name: string,
  changes: ReadonlyMap<string, OffsetChange>,
  lock = false,
): string {
  const expected = [...changes].map(([typeName, { from }]) => `"${typeName}" ${from}`);
  return `Cannot store the offsets of projection "${name}": expected the stored offsets to be ` +
    `${expected.join(", ")}` +
    (lock
      ? `, but another runner has moved one, or this runner has lost its lock (its connection ended)`
      : `, but another runner has moved one`);
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
