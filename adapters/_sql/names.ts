// The names of the database objects, built once from the user's schema and table prefix. Both
// are validated as plain lower-case identifiers before any I/O and then always double-quoted,
// so nothing the user passes is spliced raw into SQL.

import { quote } from "../../src/_validate.ts";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,29}$/;
const PREFIX = /^[a-z0-9_]{0,30}$/;

/**
 * Where the adapter's tables live.
 *
 * @example Put the tables in their own schema
 * ```ts
 * import { type NameOptions, PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * // Tables "shop"."orders_events", "shop"."orders_snapshots", …
 * const names: NameOptions = { schema: "shop", tablePrefix: "orders_" };
 * // Names are checked before any I/O: upper case and "-" are refused.
 * await assert.rejects(PgliteEventLog.open({ ...names, tablePrefix: "Orders-" }), TypeError);
 * ```
 */
export interface NameOptions {
  /**
   * The PostgreSQL schema of the tables; created by `setup()` when missing. Lower-case
   * letters, digits and `_`, starting with a letter or `_`, at most 30 characters. Default
   * `"public"`.
   */
  schema?: string | undefined;
  /**
   * Prepended to every table, function and notification channel name, so several stores can
   * share a schema. Lower-case letters, digits and `_`, at most 30 characters. Default
   * `"eventsourced_"`.
   */
  tablePrefix?: string | undefined;
}

/** The quoted, schema-qualified names of everything the adapter creates. */
export interface SqlNames {
  /** The schema, quoted. */
  readonly schema: string;
  /** The events table. */
  readonly events: string;
  /** The snapshots table. */
  readonly snapshots: string;
  /** The projection offsets table. */
  readonly offsets: string;
  /** The schema version table. */
  readonly schemaVersion: string;
  /** Per type name, the highest position deleted while it was the last one (version 3). */
  readonly positionFloors: string;
  /** The per-entity keys of crypto-shredding (version 3). */
  readonly keys: string;
  /** The offsets of projections over several types, per name and type (version 3). */
  readonly typeOffsets: string;
  /** The group-commit append function. */
  readonly append: string;
  /** The append function for a batch of one event. */
  readonly appendOne: string;
  /** Unqualified name for constraints and indexes (prefix only), unquoted. */
  readonly prefix: string;
  /** The LISTEN/NOTIFY channel (unquoted, a valid identifier). */
  readonly channel: string;
  /** A stable key for the advisory lock that serialises concurrent `setup()` calls. */
  readonly lockKey: string;
}

/** Validates the options and builds the names; throws a TypeError naming the bad option. */
export function sqlNames(options: NameOptions = {}): SqlNames {
  const schema = options.schema ?? "public";
  const prefix = options.tablePrefix ?? "eventsourced_";
  if (typeof schema !== "string" || !IDENTIFIER.test(schema)) {
    throw new TypeError(
      `Invalid schema ${
        quote(schema)
      }: expected 1 to 30 characters of a-z, 0-9 or "_", not starting with a digit`,
    );
  }
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(
      `Invalid tablePrefix ${quote(prefix)}: expected at most 30 characters of a-z, 0-9 or "_"`,
    );
  }
  const q = (name: string) => `"${schema}"."${prefix}${name}"`;
  return {
    schema: `"${schema}"`,
    events: q("events"),
    snapshots: q("snapshots"),
    offsets: q("projection_offsets"),
    schemaVersion: q("schema_version"),
    positionFloors: q("position_floors"),
    keys: q("keys"),
    typeOffsets: q("type_offsets"),
    append: q("append"),
    appendOne: q("append_one"),
    prefix,
    channel: `${schema}_${prefix}events`,
    lockKey: `eventsourced:${schema}.${prefix}`,
  };
}
