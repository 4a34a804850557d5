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
  const { schema, events, positions, snapshots, schemaVersion, append, prefix } = names;
  return `do $setup$
declare
  v_version integer;
begin
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
  -- type names for its whole transaction, see ${append}.
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
  ${appendFunction(names)}
  insert into ${schemaVersion} (version) values (${SCHEMA_VERSION});
end
$setup$`;
}

// The group-commit append: many entities, each with its own expected last seqNo, in one
// statement and so one transaction and one round trip.
//
// Positions: a plain sequence hands out numbers at insert time, but transactions commit in any
// order, so a reader could see position 7 before 6 commits and then never look back (the gap
// problem). Instead every append first locks the counter row of each of its type names (in name
// order, so two batches never deadlock) and holds the lock until commit. The next append of that
// type name can only take the lock, and its positions, after this one has committed and become
// visible, so the committed positions of a type name are always a prefix 1..n: a reader that has
// seen p never later finds an event below p. The alternative, filtering reads by
// pg_snapshot_xmin(pg_current_snapshot()), keeps writers apart but makes every reader lag behind
// the oldest open transaction in the whole database; appends of one type name here are batched
// anyway, so serialising them costs little.
//
// The concurrency check runs in a statement after the locks are taken. In a VOLATILE plpgsql
// function each statement takes a fresh snapshot (READ COMMITTED), so it sees every append
// committed before the lock was granted: the max(seq_no) it reads is current, entities whose
// expected seqNo does not match are left out, and the others are written. One entity's conflict
// fails only that entity.
function appendFunction(names: SqlNames): string {
  const { events, positions, append, channel } = names;
  return `create function ${append}(
    p_types text[], p_ids text[], p_expected bigint[],
    p_entity integer[], p_start integer[], p_length integer[], p_bytes bytea, p_notify boolean
  ) returns table (accepted boolean, actual bigint)
  language plpgsql volatile as $append$
  declare
    v_types text[];
  begin
    select array_agg(distinct t order by t) into v_types from unnest(p_types) as t;
    insert into ${positions} (type_name, position)
      select t, 0 from unnest(v_types) as t order by t
      on conflict (type_name) do nothing;
    perform 1 from ${positions} where type_name = any (v_types) order by type_name for update;
    return query
    with entity as (
      select i, p_types[i] as type_name, p_ids[i] as id, p_expected[i] as expected,
        coalesce((select max(e.seq_no) from ${events} as e
          where e.type_name = p_types[i] and e.id = p_ids[i]), 0) as actual
      from generate_subscripts(p_types, 1) as i
    ), event as (
      select k, p_entity[k] as i, row_number() over (partition by p_entity[k] order by k) as n
      from generate_subscripts(p_entity, 1) as k
    ), ok as (
      select ev.k, en.type_name, en.id, en.expected + ev.n as seq_no,
        row_number() over (partition by en.type_name order by ev.k) as rank
      from event as ev join entity as en on en.i = ev.i
      where en.actual = en.expected
    ), counter as (
      update ${positions} as p set position = p.position + c.n
      from (select type_name, count(*) as n from ok group by type_name) as c
      where p.type_name = c.type_name
      returning p.type_name, p.position - c.n as base
    ), written as (
      insert into ${events} (type_name, id, seq_no, position, bytes)
      select ok.type_name, ok.id, ok.seq_no, counter.base + ok.rank,
        substring(p_bytes from p_start[ok.k] for p_length[ok.k])
      from ok join counter using (type_name)
    )
    select en.actual = en.expected, en.actual from entity as en order by en.i;
    if p_notify then
      perform pg_notify('${channel}', t) from unnest(v_types) as t;
    end if;
  end
  $append$;`;
}
