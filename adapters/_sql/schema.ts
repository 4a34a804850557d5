// The schema shared by the PostgreSQL and PGlite adapters, and the one idempotent script that
// creates or upgrades it: the event log, snapshot store and offset store all run it, so one
// `setup()` sets up every table of a schema and table prefix. The script is a single DO block,
// so it runs as one statement (one transaction) on both drivers; an advisory lock makes
// concurrent setups wait for each other instead of racing on `create ... if not exists`.

import type { SqlNames } from "./names.ts";
import { versionOne } from "./schema_v1.ts";
import { versionTwo } from "./schema_v2.ts";
import { versionThree } from "./schema_v3.ts";

/** A step that takes a schema from the version before to `version`. */
export interface SchemaUpgrade {
  /** The version the step leads to (2, 3 …; version 1 is created whole). */
  readonly version: number;
  /** plpgsql statements, run inside the setup block. */
  readonly sql: (names: SqlNames) => string;
}

/**
 * The steps after version 1 (schema_v1.ts, as released), in version order; a change to the
 * schema ships as a new step here, so a database set up by an earlier release is upgraded in
 * place by `setup()`.
 */
export const UPGRADES: readonly SchemaUpgrade[] = [
  { version: 2, sql: versionTwo },
  { version: 3, sql: versionThree },
];

/**
 * The schema version this release creates and reads; `setup()` records it in the
 * `<prefix>schema_version` table and refuses a database at a higher version.
 *
 * @example Compare with a database's version
 * ```ts
 * import { SCHEMA_VERSION } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SCHEMA_VERSION, 3);
 * ```
 */
export const SCHEMA_VERSION: number = 1 + UPGRADES.length;

/**
 * The setup script: creates version 1 when nothing is there, then applies each step of
 * `upgrades` above the recorded version and records it. A database at a newer version than the
 * last step is refused, so an old release never writes into a schema it does not know.
 */
export function setupScript(
  names: SqlNames,
  upgrades: readonly SchemaUpgrade[] = UPGRADES,
): string {
  const { schema, schemaVersion } = names;
  const latest = 1 + upgrades.length;
  const steps = upgrades.map((step, i) => {
    if (step.version !== i + 2) {
      throw new Error(`Schema upgrade ${i} leads to version ${step.version}, expected ${i + 2}`);
    }
    return `if v_version < ${step.version} then
    ${step.sql(names)}
    insert into ${schemaVersion} (version) values (${step.version});
  end if;`;
  });
  return `do $setup$
declare
  v_version integer;
begin
  perform set_config('client_min_messages', 'warning', true);
  perform pg_advisory_xact_lock(hashtextextended('${names.lockKey}', 0));
  -- CREATE SCHEMA checks the database's CREATE privilege even when the schema exists, so an
  -- owner that was given the schema (and nothing on the database) skips it.
  if not exists (select from pg_catalog.pg_namespace where nspname = '${
    schema.replaceAll('"', "")
  }') then
    create schema if not exists ${schema};
  end if;
  create table if not exists ${schemaVersion} (
    version integer primary key,
    installed_at timestamptz not null default now()
  );
  select max(version) into v_version from ${schemaVersion};
  if v_version > ${latest} then
    raise exception 'eventsourced schema % is at version %, this release supports up to version ${latest}',
      '${schema.replaceAll('"', "")}.${names.prefix}*', v_version
      using errcode = 'feature_not_supported';
  end if;
  if v_version is null then
    ${versionOne(names)}
    insert into ${schemaVersion} (version) values (1);
    v_version := 1;
  end if;
  ${steps.join("\n  ")}
end
$setup$`;
}
