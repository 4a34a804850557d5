// The schema, shared by the PostgreSQL and PGlite adapters, and the one idempotent script that
// creates it. The script is a single DO block, so it runs as one statement (one transaction)
// on both drivers; an advisory lock makes concurrent setups wait for each other instead of
// racing on `create ... if not exists`.

import type { SqlNames } from "./names.ts";
import { lastPosition, lockTypeNames } from "./positions.ts";

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
export const SCHEMA_VERSION = 3;

// Version 3 drops the events table's check constraints (id of 1 to 256 characters, seqNo and
// position at least 1). PostgreSQL rebuilds a table's check expressions for every statement
// that inserts into it: measured with pg_stat_statements on PostgreSQL 15, a one-event append
// spent 59 us executing with them and 37 us without, against 21 us for the raw single-row
// INSERT of the bench. They only repeated what the adapter validates before any write (ids, see
// src/_validate.ts) or computes itself (seqNos, positions). The snapshots table, written far
// less often, keeps its checks.

/**
 * Creates what is missing and records each version it applies. A database at a newer version
 * than this release knows is refused, so an old release never writes into a schema it does not
 * know. Version 1: the tables (and append functions that version 2 replaces). Version 2: the
 * append functions take a per-entity flag that skips the last-seqNo probe (see appendFunction).
 * Version 3: positions follow the last committed one under an advisory lock, without the
 * counter table (see positions.ts), and the events table has no check constraints (see above).
 */
export function setupScript(names: SqlNames): string {
  const { schema, events, positions, snapshots, schemaVersion, prefix } = names;
  return `do $setup$
declare
  v_version integer;
  v_check name;
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

  if v_version is null then
    -- Version 1, created as version 3 leaves it: without the events table's check constraints
    -- and without the positions table.
    create table ${events} (
      type_name text not null,
      id text not null,
      seq_no bigint not null,
      position bigint not null,
      bytes bytea not null,
      written_at timestamptz not null default now(),
      constraint "${prefix}events_pkey" primary key (type_name, id, seq_no),
      constraint "${prefix}events_position_key" unique (type_name, position)
    );
    create table ${snapshots} (
      type_name text not null,
      id text not null check (char_length(id) between 1 and 256),
      seq_no bigint not null check (seq_no >= 1),
      bytes bytea not null,
      written_at timestamptz not null default now(),
      constraint "${prefix}snapshots_pkey" primary key (type_name, id, seq_no)
    );
    insert into ${schemaVersion} (version) values (1);
  end if;

  if v_version is null or v_version < 2 then
    -- Version 2: the append functions of version 1 are replaced (by those of version 3 below).
    drop function if exists ${names.append}(text[], text[], bigint[], text[], bigint[],
      integer[], integer[], integer[], integer[], integer[], integer[], bytea, boolean);
    drop function if exists ${names.appendOne}(text, text, bigint, bytea, boolean);
    insert into ${schemaVersion} (version) values (2);
  end if;

  -- Version 3: positions follow the last committed one under an advisory lock (positions.ts),
  -- so the counter table goes, and with it the batch function's count per type name; no check
  -- constraints on the events table (see above).
  drop table if exists ${positions};
  drop function if exists ${names.append}(text[], text[], bigint[], boolean[], text[], bigint[],
    integer[], integer[], integer[], integer[], integer[], integer[], bytea, boolean);
  for v_check in select conname from pg_constraint
    where conrelid = '${events}'::regclass and contype = 'c' loop
    execute format('alter table ${events} drop constraint %I', v_check);
  end loop;
  ${appendFunction(names)}
  ${appendOneFunction(names)}
  insert into ${schemaVersion} (version) values (3);
end
$setup$`;
}

// The group-commit append: the events of many entities, each entity with its own expected last
// seqNo, written by one call, so one transaction and one round trip. Per entity: type name, id,
// expected last seqNo (0: none), and whether to check it. Per distinct type name of the batch,
// in name order: the name. Per event: its entity and type name (1-based
// indexes into those arrays), its seqNo offset within its entity and its rank within its type
// name (1, 2, 3 …), and where its bytes start (1-based) and how long they are in p_bytes, all
// events packed into one bytea. Rows: accepted, actual last seqNo; one per entity, in order. It
// is a plpgsql function so that both drivers reuse its cached plans (PGlite prepares nothing
// itself).
//
// Concurrency check. The primary key already refuses a writer that is behind: its first seqNo
// exists, the insert fails with a unique violation and nothing of the batch is written. What
// the key cannot see is a writer that is ahead (it expects seqNo 5 where the log ends at 3: the
// insert would leave a gap), so for such entities the last seqNo is read first (one index
// probe, `order by … desc limit 1`; max() can turn into a scan of the whole entity when
// statistics are missing). The caller skips that probe (p_check false) where it cannot be
// needed: for a new entity (expected 0) and for an entity whose expected seqNo this log wrote
// itself (events are never deleted, so it exists; after any failed append the log forgets what
// it wrote, so a failover to a replica that lost the last commits is probed again). If any
// checked entity differs from what its
// writer expected, nothing is written and the outcomes go back: the caller fails those entities
// with a ConcurrencyError and sends the others again, so one entity's conflict fails only that
// entity. On a unique violation the caller sends the batch again with every entity checked,
// then entity by entity (sql_event_log.ts).
//
// Positions: the function waits for the advisory locks of its type names, then numbers each
// type name's events after its last committed position (see positions.ts).
//
// The check reads with the snapshot of its own statement, taken before the lock: if another
// append of the same entity commits in between, the insert of a seqNo it already wrote violates
// the primary key, and the retry described above turns that into a ConcurrencyError.
function appendFunction(names: SqlNames): string {
  const { events, append, channel } = names;
  return `create or replace function ${append}(
    p_types text[], p_ids text[], p_expected bigint[], p_check boolean[],
    p_type_names text[],
    p_entity integer[], p_type integer[], p_seq integer[], p_rank integer[],
    p_start integer[], p_length integer[], p_bytes bytea, p_notify boolean
  ) returns table (o_accepted boolean, o_actual bigint)
  language plpgsql volatile as $append$
  declare
    v_actual bigint[];
    v_bases bigint[] := array[]::bigint[];
    v_key integer;
  begin
    if true = any(p_check) then
      select array_agg(case when p_check[i] then coalesce((select e.seq_no from ${events} as e
          where e.type_name = p_types[i] and e.id = p_ids[i]
          order by e.seq_no desc limit 1), 0) else p_expected[i] end order by i)
        into v_actual from generate_subscripts(p_types, 1) as i;
    else
      v_actual := p_expected;
    end if;
    if v_actual = p_expected then
      ${lockTypeNames(names, "p_type_names")}
      for t in 1 .. array_length(p_type_names, 1) loop
        v_bases := v_bases || ${lastPosition(names, "p_type_names[t]")};
      end loop;
      insert into ${events} (type_name, id, seq_no, position, bytes)
        select p_types[p_entity[k]], p_ids[p_entity[k]], p_expected[p_entity[k]] + p_seq[k],
          v_bases[p_type[k]] + p_rank[k], substring(p_bytes from p_start[k] for p_length[k])
        from generate_subscripts(p_entity, 1) as k;
      if p_notify then
        perform pg_notify('${channel}', t) from unnest(p_type_names) as t;
      end if;
    end if;
    return query select v_actual[i] = p_expected[i], v_actual[i]
      from generate_subscripts(p_types, 1) as i order by i;
  end
  $append$;`;
}

// The same for a batch of a single event, the usual case of an entity whose commands come one
// at a time: scalar parameters and short statements instead of the set-based statement.
function appendOneFunction(names: SqlNames): string {
  const { events, appendOne, channel } = names;
  return `create or replace function ${appendOne}(
    p_type text, p_id text, p_expected bigint, p_check boolean, p_bytes bytea, p_notify boolean,
    out o_accepted boolean, out o_actual bigint
  ) language plpgsql volatile as $append_one$
  declare
    v_key integer;
  begin
    if p_check then
      select e.seq_no into o_actual from ${events} as e
        where e.type_name = p_type and e.id = p_id order by e.seq_no desc limit 1;
      o_actual := coalesce(o_actual, 0);
      o_accepted := o_actual = p_expected;
      if not o_accepted then
        return;
      end if;
    else
      o_actual := p_expected;
      o_accepted := true;
    end if;
    ${lockTypeNames(names, "array[p_type]")}
    insert into ${events} (type_name, id, seq_no, position, bytes)
      values (p_type, p_id, p_expected + 1, ${lastPosition(names, "p_type")} + 1, p_bytes);
    if p_notify then
      perform pg_notify('${channel}', p_type);
    end if;
  end
  $append_one$;`;
}
