// The SQL of the Postgres and PGlite offset stores: one table of offsets, one row per
// projection name, moved by compare-and-set so a runner that lost its name cannot overwrite
// the offset of the runner that took it.

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,29}$/;
const PREFIX = /^[a-z0-9_]{0,30}$/;

/**
 * Where the offsets table lives: options of `PostgresOffsetStore` and `PgliteOffsetStore`.
 *
 * @example Offsets in their own schema
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import type { OffsetTableOptions } from "@eventsourced/eventsourced/postgres";
 * import { PgliteOffsetStore } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * const options: OffsetTableOptions = { schema: "read_models", tablePrefix: "shop_" };
 * const offsetStore = new PgliteOffsetStore(db, options);
 * await offsetStore.setup();
 * const { rows } = await db.query<{ table_name: string }>(
 *   "select table_name from information_schema.tables where table_schema = 'read_models'",
 * );
 * assert.deepEqual(rows.map((row) => row.table_name), ["shop_projection_offsets"]);
 * await db.close();
 * ```
 */
export interface OffsetTableOptions {
  /**
   * The PostgreSQL schema of the table; created by `setup()` when missing. Lower-case letters,
   * digits and `_`, not starting with a digit, at most 30 characters. Default `"public"`.
   */
  schema?: string | undefined;
  /**
   * Prepended to the table name `projection_offsets`, as the event log adapters do with their
   * tables. Lower-case letters, digits and `_`, at most 30 characters. Default `"eventsourced_"`.
   */
  tablePrefix?: string | undefined;
}

/** The statements of an offsets table, with `$n` parameters. */
export interface OffsetStatements {
  /** The quoted, schema-qualified table, for messages. */
  readonly table: string;
  /** Two int4 keys identifying the table, for advisory locks. */
  readonly lockSpace: number;
  /** Creates schema and table; idempotent. */
  readonly setup: string;
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

/** Validates the options and builds the statements; throws a TypeError naming the option. */
export function offsetStatements(options: OffsetTableOptions = {}): OffsetStatements {
  const schema = options.schema ?? "public";
  const prefix = options.tablePrefix ?? "eventsourced_";
  if (typeof schema !== "string" || !IDENTIFIER.test(schema)) {
    throw new TypeError(
      `Invalid schema ${
        JSON.stringify(schema)
      }: expected 1 to 30 characters of a-z, 0-9 or "_", not starting with a digit`,
    );
  }
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(
      `Invalid tablePrefix ${
        JSON.stringify(prefix)
      }: expected up to 30 characters of a-z, 0-9 or "_"`,
    );
  }
  const table = `"${schema}"."${prefix}projection_offsets"`;
  const lockSpace = hash32(`eventsourced projection ${table}`);
  return {
    table,
    lockSpace,
    setup: `create schema if not exists "${schema}";
create table if not exists ${table} (
  name text primary key,
  position bigint not null check (position >= 0),
  updated_at timestamptz not null default now()
);`,
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
