/**
 * {@linkcode postgresGrants}: the GRANT statements of the least-privileged roles that use a
 * schema set up by another role (the owner, which runs `setup()`).
 *
 * @module
 */

import { booleanOption, readOptions } from "../../src/_options.ts";
import { quote } from "../../src/_validate.ts";
import { type NameOptions, type SqlNames, sqlNames } from "../_sql/names.ts";
import { nameRules } from "../_sql/options.ts";

/**
 * What a role does with the tables, from the most to the least it may:
 * - `"writer"`: persists events (`spawn`, `persist`), reads them, saves and loads snapshots.
 * - `"projection"`: reads events and moves the offsets of its projections (single- and
 *   multi-type) in its own transactions; it cannot write events or snapshots.
 * - `"reader"`: reads events and snapshots (`EventReader`, `eventsById`, `eventsByType`), nothing
 *   else.
 *
 * None of them can run `setup()`, change a table, or delete events: that stays with the owner.
 *
 * @example A role per process kind
 * ```ts
 * import type { PostgresRoleKind } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const kinds: PostgresRoleKind[] = ["writer", "projection", "reader"];
 * assert.equal(kinds.length, 3);
 * ```
 */
export type PostgresRoleKind = "writer" | "projection" | "reader";

/**
 * Where the tables are (the same `schema` and `tablePrefix` as the adapters take) and whether
 * the role uses crypto-shredding's key table.
 *
 * @example Custom names, with the keys of crypto-shredding
 * ```ts
 * import { postgresGrants, type PostgresGrantOptions } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const options: PostgresGrantOptions = { schema: "shop", tablePrefix: "orders_", keys: true };
 * const grants = postgresGrants("writer", "shop_writer", options);
 * assert.ok(grants.includes('grant select, insert on "shop"."orders_keys" to "shop_writer"'));
 * ```
 */
export interface PostgresGrantOptions extends NameOptions {
  /**
   * Whether the role reads (and a writer also creates) the per-entity keys of crypto-shredding
   * (`PostgresKeyStore`); default `false`. Deleting a key (forgetting) stays with the owner.
   */
  keys?: boolean | undefined;
}

const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

const optionRules = { ...nameRules, keys: booleanOption<boolean>(false) };

/**
 * The statements, in order, that give `roleName` what a role of `kind` needs on the tables of
 * `options` (schema and table prefix, as the adapters take them), and nothing more. Run them as
 * the owner of the tables (the role that ran `setup()`) or a superuser, after `setup()`, and
 * again after a `setup()` that upgraded the schema to a new version (new tables get no
 * grants by themselves). The role needs `LOGIN` and whatever authentication your server asks
 * for; the statements do not create it.
 *
 * Functions of the server the adapters call need no grant: advisory locks, `pg_notify` and
 * `LISTEN`, and the rows of `pg_locks` and `pg_stat_activity` a projection's lock checks.
 * The append functions run with the caller's rights (they are not `security definer`), so a
 * role that may execute them still writes only where its table grants let it.
 *
 * Throws a `TypeError` naming the bad argument (an unknown kind, a role name that is not a
 * plain identifier, a bad schema or table prefix, an unknown option), or a `RangeError` for a
 * `keys` that is not a boolean, before returning anything.
 *
 * @example A reader may read, and a write is refused by the server (PGlite honours roles)
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { PgliteEventLog } from "@eventsourced/eventsourced/pglite";
 * import { postgresGrants } from "@eventsourced/eventsourced/postgres";
 * import assert from "node:assert/strict";
 *
 * const db = new PGlite();
 * const log = new PgliteEventLog(db);
 * await log.setup(); // as the owner
 * await log.persist("counter", "c-1", null, [new Uint8Array([1])]);
 * await db.exec("create role app_reader nologin");
 * for (const statement of postgresGrants("reader", "app_reader")) await db.exec(statement);
 *
 * await db.exec("set role app_reader");
 * const events: number[] = [];
 * for await (const event of log.eventsById("counter", "c-1", 1)) events.push(event.seqNo);
 * assert.deepEqual(events, [1]);
 * await assert.rejects(
 *   log.persist("counter", "c-1", 1, [new Uint8Array([2])]),
 *   (error: { reason?: string; message: string }) =>
 *     error.reason === "permission-denied" && /eventsourced_events/.test(error.message),
 * );
 * await db.close();
 * ```
 */
export function postgresGrants(
  kind: PostgresRoleKind,
  roleName: string,
  options: PostgresGrantOptions = {},
): string[] {
  if (kind !== "writer" && kind !== "projection" && kind !== "reader") {
    throw new TypeError(
      `Invalid kind ${quote(kind)}: expected "writer", "projection" or "reader"`,
    );
  }
  if (typeof roleName !== "string" || !ROLE_NAME.test(roleName)) {
    throw new TypeError(
      `Invalid roleName ${quote(roleName)}: expected 1 to 63 characters of A-Z, a-z, 0-9, ` +
        `"_", "$" or "-", starting with a letter or "_"`,
    );
  }
  const read = readOptions("postgresGrants", options, optionRules);
  const names = sqlNames(read);
  const role = `"${roleName}"`;
  const grant = (what: string, on: string) => `grant ${what} on ${on} to ${role}`;
  // Every read by position numbers after the type's floor (positions.ts), so reading events
  // needs the floors too.
  const readEvents = [
    grant("usage", `schema ${names.schema}`),
    grant("select", names.events),
    grant("select", names.positionFloors),
  ];
  const readKeys = read.keys ? [grant("select", names.keys)] : [];
  switch (kind) {
    case "writer":
      return [
        grant("usage", `schema ${names.schema}`),
        // Appends probe the entity's last seqNo and the type's last position, then insert.
        grant("select, insert", names.events),
        grant("select", names.positionFloors),
        ...appendFunctions(names).map((fn) => grant("execute", `function ${fn}`)),
        // Saving a snapshot replaces one of the same seqNo and prunes all but the newest kept.
        grant("select, insert, update, delete", names.snapshots),
        ...(read.keys ? [grant("select, insert", names.keys)] : []),
      ];
    case "projection":
      return [
        ...readEvents,
        ...readKeys,
        // Offsets are moved by insert-if-missing and compare-and-set updates, never deleted.
        grant("select, insert, update", names.offsets),
        grant("select, insert, update", names.typeOffsets),
      ];
    case "reader":
      return [...readEvents, grant("select", names.snapshots), ...readKeys];
  }
}

// The signatures of the append functions this release calls (schema_v2.ts; statements.ts).
function appendFunctions(names: SqlNames): string[] {
  return [
    `${names.append}(text[], text[], bigint[], boolean[], text[], integer[], integer[], ` +
    `integer[], integer[], integer[], integer[], bytea, boolean, integer[], text[], text[], ` +
    `text[], text[])`,
    `${names.appendOne}(text, text, bigint, boolean, bytea, boolean, integer, text, text, ` +
    `text, text)`,
  ];
}
