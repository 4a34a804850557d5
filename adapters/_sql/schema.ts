// The schema, shared by the PostgreSQL and PGlite adapters, and the one idempotent script that
// creates it. The script is a single DO block, so it runs as one statement (one transaction)
// on both drivers; an advisory lock makes concurrent setups wait for each other instead of
// racing on `create ... if not exists`.

import type { SqlNames } from "./names.ts";

/** The schema version this release creates and reads. */
export const SCHEMA_VERSION = 1;

/**
 * Creates what is missing and records the version. A database at a newer version than this
 * release knows is refused, so an old release never writes into a schema it does not know.
 */
export function setupScript(names: SqlNames): string {
  const { schema, events, positions, snapshots, schemaVersion, prefix } = names;
  return `do $setup$
declare
  v_version integer;
begin
  perform set_config('client_min_messages', 'warning', true);
  perform pg_advisory_xact_lock(hashtextextended('${names.lockKey}', 0));
  create schema if not exists ${schema};
  create table if not exists ${schemaVersion} (
    version integer primary key,
    installed_at timestamptz not null default now()
  );
  select max(version) into v_version from ${schemaVersion};
  if v_version > ${SCHEMA_VERSION} then
    raise exception 'eventsourced schema % is at version %, this release supports up to version ${SCHEMA_VERSION}',
      '${schema.replaceAll('"', "")}.${prefix}*', v_version
      using errcode = 'feature_not_supported';
  end if;
  if v_version = ${SCHEMA_VERSION} then
    return;
  end if;

  -- Version 1.
  create table ${events} (
    type_name text not null,
    id text not null check (char_length(id) between 1 and 256),
    seq_no bigint not null check (seq_no >= 1),
    position bigint not null check (position >= 1),
    bytes bytea not null,
    written_at timestamptz not null default now(),
    constraint "${prefix}events_pkey" primary key (type_name, id, seq_no),
    constraint "${prefix}events_position_key" unique (type_name, position)
  );
  -- One row per type name: the last position handed out. An append locks the rows of its
  -- type names until it commits (see statements.ts).
  create table ${positions} (
    type_name text primary key,
    position bigint not null
  );
  create table ${snapshots} (
    type_name text not null,
    id text not null check (char_length(id) between 1 and 256),
    seq_no bigint not null check (seq_no >= 1),
    bytes bytea not null,
    written_at timestamptz not null default now(),
    constraint "${prefix}snapshots_pkey" primary key (type_name, id, seq_no)
  );
  insert into ${schemaVersion} (version) values (${SCHEMA_VERSION});
end
$setup$`;
}
