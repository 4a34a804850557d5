// The schema, shared by the PostgreSQL and PGlite adapters, and the one idempotent script that
// creates it. The script is a single DO block, so it runs as one statement (one transaction)
// on both drivers; an advisory lock makes concurrent setups wait for each other instead of
// racing on `create ... if not exists`.

import type { SqlNames } from "./names.ts";

/**
 * The schema version this release creates and reads; `setup()` records it in the
 * `<prefix>schema_version` table and refuses a database at a higher version.
 *
 * @example Compare with a database's version
 * ```ts
 * import { SCHEMA_VERSION } from "@eventsourced/eventsourced/pglite";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SCHEMA_VERSION, 1);
 * ```
 */
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
  -- type names until it commits (see appendFunction in schema.ts).
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
  ${appendOneFunction(names)}
  insert into ${schemaVersion} (version) values (${SCHEMA_VERSION});
end
$setup$`;
}

// The group-commit append: many entities, each with its own expected last seqNo, written by one
// statement, so one transaction and one round trip. Parameters: type names, ids and expected
// last seqNos (0: none), one per entity; the entity (1-based) of each event, where its bytes
// start (1-based) and how long they are in p_bytes, all events packed into one bytea; whether
// to NOTIFY. Rows: accepted, actual last seqNo; one per entity, in order. It is a plpgsql
// function so that both drivers reuse its cached plans (PGlite prepares nothing itself), with
// a shorter statement for the common batch of one entity.
//
// Positions. A plain sequence hands out numbers at insert time, but transactions commit in any
// order, so a reader could see position 7 before 6 commits and never look back (the gap
// problem). Instead each append takes its positions from the counter row of its type name with
// an upsert, which locks the row until the transaction ends; rows of several type names are
// locked in name order, so two appends never deadlock. The next append of that type name gets
// the lock, and its positions, only after this one has committed and become visible, so the
// committed positions of a type name are always a prefix 1..n: a reader that has seen p never
// later finds an event below p, and positions stay dense. The alternative, reading only below
// pg_snapshot_xmin(pg_current_snapshot()) over a sequence, keeps writers apart but makes every
// reader lag behind the oldest open transaction of the whole database and needs xid8 on the
// rows; appends of one type name are grouped into few transactions here anyway, so serialising
// them costs little.
//
// Concurrency check. Each entity's last seqNo is read (one index probe, `order by … desc limit
// 1`: max() can become a scan of the whole entity when statistics are missing) and only entities
// whose expected seqNo matches are written, so one entity's conflict fails only that entity.
// The read uses the statement's snapshot; if another append of the same entity committed while
// this one waited for the counter lock, the insert of the seqNo it already wrote violates the
// primary key, the statement fails as a whole, and the caller retries the entities one by one,
// turning a unique violation into a ConcurrencyError (sql_event_log.ts).
function appendFunction(names: SqlNames): string {
  const { events, positions, append, channel } = names;
  return `create function ${append}(
    p_types text[], p_ids text[], p_expected bigint[],
    p_entity integer[], p_start integer[], p_length integer[], p_bytes bytea, p_notify boolean
  ) returns table (o_accepted boolean, o_actual bigint)
  language plpgsql volatile as $append$
  begin
    if array_length(p_types, 1) = 1 then
      return query
      with entity as (
        select coalesce((select e.seq_no from ${events} as e
          where e.type_name = p_types[1] and e.id = p_ids[1]
          order by e.seq_no desc limit 1), 0) as actual
      ), counter as (
        insert into ${positions} as p (type_name, position)
        select p_types[1], array_length(p_entity, 1) from entity where actual = p_expected[1]
        on conflict (type_name) do update set position = p.position + excluded.position
        returning p.position
      ), written as (
        insert into ${events} (type_name, id, seq_no, position, bytes)
        select p_types[1], p_ids[1], p_expected[1] + k,
          counter.position - array_length(p_entity, 1) + k,
          substring(p_bytes from p_start[k] for p_length[k])
        from counter cross join generate_subscripts(p_entity, 1) as k
      )
      select entity.actual = p_expected[1], entity.actual from entity;
      if p_notify then
        perform pg_notify('${channel}', p_types[1]);
      end if;
      return;
    end if;
    return query
    with entity as (
        select i, p_types[i] as type_name, p_ids[i] as id, p_expected[i] as expected,
          coalesce((select e.seq_no from ${events} as e
            where e.type_name = p_types[i] and e.id = p_ids[i]
            order by e.seq_no desc limit 1), 0) as actual
        from generate_subscripts(p_types, 1) as i
      ), ok as (
        select k, en.type_name, en.id,
          en.expected + row_number() over (partition by en.i order by k) as seq_no,
          row_number() over (partition by en.type_name order by k) as rank
        from generate_subscripts(p_entity, 1) as k
        join entity as en on en.i = p_entity[k]
        where en.actual = en.expected
      ), counts as (
        select type_name, count(*) as n from ok group by type_name
      ), counter as (
        insert into ${positions} as p (type_name, position)
        select type_name, n from counts order by type_name
        on conflict (type_name) do update set position = p.position + excluded.position
        returning p.type_name, p.position
      ), written as (
        insert into ${events} (type_name, id, seq_no, position, bytes)
        select ok.type_name, ok.id, ok.seq_no, counter.position - counts.n + ok.rank,
          substring(p_bytes from p_start[ok.k] for p_length[ok.k])
        from ok join counter using (type_name) join counts using (type_name)
      ), notified as (
        select count(pg_notify('${channel}', type_name)) as n from counts where p_notify
      )
      select en.actual = en.expected, en.actual
      from entity as en cross join notified
      order by en.i;
  end
  $append$;`;
}

// The same for a batch of a single event, the usual case of an entity whose commands come one
// at a time: scalar parameters and three short statements instead of the set-based statement.
function appendOneFunction(names: SqlNames): string {
  const { events, positions, appendOne, channel } = names;
  return `create function ${appendOne}(
    p_type text, p_id text, p_expected bigint, p_bytes bytea, p_notify boolean,
    out o_accepted boolean, out o_actual bigint
  ) language plpgsql volatile as $append_one$
  declare
    v_position bigint;
  begin
    select e.seq_no into o_actual from ${events} as e
      where e.type_name = p_type and e.id = p_id order by e.seq_no desc limit 1;
    o_actual := coalesce(o_actual, 0);
    o_accepted := o_actual = p_expected;
    if not o_accepted then
      return;
    end if;
    insert into ${positions} as p (type_name, position) values (p_type, 1)
      on conflict (type_name) do update set position = p.position + 1
      returning p.position into v_position;
    insert into ${events} (type_name, id, seq_no, position, bytes)
      values (p_type, p_id, p_expected + 1, v_position, p_bytes);
    if p_notify then
      perform pg_notify('${channel}', p_type);
    end if;
  end
  $append_one$;`;
}
