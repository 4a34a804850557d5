// The statements of the SQL store admin (sql_store_admin.ts), built once per set of names.
// Listings order ids and names by code point (`collate "C"`, the order of UTF-8 bytes), as
// every store admin does.

import type { SqlNames } from "./names.ts";
import { lastPosition } from "./positions.ts";
import { hash32, offsetStatements } from "./sql_offset_store.ts";

/** The statements of one admin. */
export interface AdminStatements {
  /** The installed schema version (fails with 42P01 when the table is missing). */
  readonly schemaVersion: string;
  /** Rows: type name, entities, events, head position; in type name order. */
  readonly entityTypes: string;
  /**
   * One row: whether the database's collation sorts text by code point already (C, POSIX, or
   * the builtin provider), so the listings can follow the primary keys' order.
   */
  readonly byteOrder: string;
  /** `$1` typeName, `$2` after id, `$3` limit. Rows: id. */
  readonly entityIds: string;
  /** `$1` typeName, `$2` after id, `$3` limit. Rows: id, seqNo, bytes, version (the latest). */
  readonly snapshots: string;
  /** The listings without `collate "C"`, for a database that sorts by code point already. */
  readonly byteOrderListings: Listings;
  /** See {@linkcode importStatement}. */
  readonly importEvents: string;
  /**
   * Rows: name, type name (`null` for a single-type offset), position, updated_at in ms; in
   * name order, the single-type row first, then by type name.
   */
  readonly projections: string;
  /**
   * `$1` name, `$2` the name's lock key, `$3` offset: sets every offset of the name that
   * `projections` lists (each type's; the single-type one unless it is 0 beside type offsets),
   * or the single-type one of a name with none, unless a runner's session holds the name's advisory lock. One row: whether it
   * was free.
   */
  readonly resetProjection: string;
  /**
   * `$1` name, `$2` the name's lock key, `$3` offset, `$4` type name: sets that type's offset of
   * the name unless a runner holds the name's advisory lock. One row: whether it was free.
   */
  readonly resetProjectionType: string;
  /** The lock key of projection `name`, as the offset store takes it. */
  projectionKey(name: string): number;
}

/** The listings of ids and snapshots, in pages by id. */
export interface Listings {
  /** `$1` typeName, `$2` after id, `$3` limit. Rows: id. */
  readonly entityIds: string;
  /** `$1` typeName, `$2` after id, `$3` limit. Rows: id, seqNo, bytes, version (the latest). */
  readonly snapshots: string;
}

// `collate` is ' collate "C"', or "" where the database's collation is code point order
// already: an explicit collation, even an equal one, keeps the planner from the primary key's
// order, so each page would sort every id of the type.
function listings(names: SqlNames, collate: string): Listings {
  return {
    // An entity's first events may have been deleted, so its ids are found by skipping from
    // one id to the next on the primary key, one probe per id.
    entityIds: `with recursive ids(id) as (
        (select e.id from ${names.events} as e
          where e.type_name = $1::text and e.id${collate} > $2::text
          order by e.id${collate} limit 1)
        union all
        select (select e.id from ${names.events} as e
          where e.type_name = $1::text and e.id${collate} > ids.id${collate}
          order by e.id${collate} limit 1)
        from ids where ids.id is not null
      )
      select id from ids where id is not null limit $3::integer`,
    snapshots: `select distinct on (id${collate}) id, seq_no, bytes, version from ${names.snapshots}
      where type_name = $1::text and id${collate} > $2::text
      order by id${collate}, seq_no desc limit $3::integer`,
  };
}

/** Builds the admin statements of `names`. */
export function adminStatements(names: SqlNames): AdminStatements {
  const { events, offsets, typeOffsets } = names;
  const { lockSpace } = offsetStatements(names);
  return {
    schemaVersion: `select max(version) from ${names.schemaVersion}`,
    // An entity's first events may have been deleted: its ids are counted, not its seqNo 1.
    entityTypes: `select type_name, count(distinct id), count(*), max(position)
      from ${events} group by type_name order by type_name collate "C"`,
    byteOrder: `select d.datcollate in ('C', 'POSIX')
        and coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') = 'c'
        or to_jsonb(d) ->> 'datlocprovider' = 'b'
      from pg_catalog.pg_database as d where d.datname = current_database()`,
    entityIds: listings(names, ' collate "C"').entityIds,
    snapshots: listings(names, ' collate "C"').snapshots,
    byteOrderListings: listings(names, ""),
    importEvents: importStatement(names),
    projections: `select name, type_name, position, updated_at from (
        select name, null::text as type_name, position,
          (extract(epoch from updated_at) * 1000)::float8 as updated_at
        from ${offsets} as o
        where o.position <> 0 or not exists (select 1 from ${typeOffsets} where name = o.name)
        union all
        select name, type_name, position, (extract(epoch from updated_at) * 1000)::float8
        from ${typeOffsets}
      ) as p order by name collate "C", type_name collate "C" nulls first`,
    resetProjection: `with free as materialized (
        select pg_try_advisory_xact_lock(${lockSpace}::int4, $2::int4) as free
      ), typed as (
        update ${typeOffsets} set position = $3::bigint, updated_at = now()
        where name = $1::text and (select free from free)
        returning 1
      ), moved as (
        insert into ${offsets} (name, position) select $1::text, $3::bigint from free
        where free and (exists (select 1 from ${offsets} where name = $1::text and position <> 0)
          or not exists (select 1 from ${typeOffsets} where name = $1::text))
        on conflict (name) do update set position = excluded.position, updated_at = now()
        returning 1
      )
      select (select free from free), (select count(*) from moved) + (select count(*) from typed)`,
    resetProjectionType: `with free as materialized (
        select pg_try_advisory_xact_lock(${lockSpace}::int4, $2::int4) as free
      ), moved as (
        insert into ${typeOffsets} (name, type_name, position)
        select $1::text, $4::text, $3::bigint from free where free
        on conflict (name, type_name) do update
        set position = excluded.position, updated_at = now()
        returning 1
      )
      select (select free from free), (select count(*) from moved)`,
    projectionKey: hash32,
  };
}

/**
 * Imports events in one statement, all or nothing. Per event: `$1` type names, `$2` ids, `$3`
 * seqNos, `$4` positions, `$5` starts and `$6` lengths of the bytes in `$7`, `$8` versions,
 * `$9`…`$12` command, correlation, causation ids and headers (JSON text), `$13` writtenAt in
 * ms. Per entity: `$14` type name, `$15` id, `$16` first seqNo. Per type name: `$17` name,
 * `$18` first position. It takes the type names' locks as appends do (positions.ts), checks
 * that each entity continues its last seqNo (or, having none, starts anywhere: its first events
 * were deleted) and each type starts above its head (gaps are deleted events), then writes,
 * raises the types' floors to what it wrote (so a log that knew an older last position does not
 * number into a gap below it; positions.ts) and notifies live readers. One row: whether it wrote, the entities' last seqNos (0: none),
 * the types' heads.
 */
function importStatement(names: SqlNames): string {
  const { events, channel, lockKey } = names;
  return `with locks as materialized (
      select count(pg_advisory_xact_lock(hashtext('${lockKey}'), k.key)) as taken
      from (select distinct hashtext(t) as key from unnest($17::text[]) as t order by 1) as k
    ), entities as materialized (
      select c.ord, c.first_seq_no, coalesce((select e.seq_no from ${events} as e
          where e.type_name = c.type_name and e.id = c.id order by e.seq_no desc limit 1), 0)
        as last_seq_no
      from unnest($14::text[], $15::text[], $16::bigint[])
        with ordinality as c(type_name, id, first_seq_no, ord)
    ), types as materialized (
      select t.ord, t.first_position, ${lastPosition(names, "t.type_name")} as head
      from unnest($17::text[], $18::bigint[]) with ordinality as t(type_name, first_position, ord)
    ), checked as materialized (
      select (select taken from locks) >= 0
        and not exists (select 1 from entities where last_seq_no <> first_seq_no - 1
          and not (last_seq_no = 0 and first_seq_no > 1))
        and not exists (select 1 from types where head >= first_position) as ok
    ), inserted as (
      insert into ${events} (type_name, id, seq_no, position, bytes, written_at, version,
          command_id, correlation_id, causation_id, headers)
      select r.type_name, r.id, r.seq_no, r.position, substring($7::bytea from r.start for r.length),
        to_timestamp(r.written_at / 1000), r.version, r.command_id, r.correlation_id,
        r.causation_id, r.headers::jsonb
      from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::integer[],
          $6::integer[], $8::integer[], $9::text[], $10::text[], $11::text[], $12::text[],
          $13::float8[])
        as r(type_name, id, seq_no, position, start, length, version, command_id,
          correlation_id, causation_id, headers, written_at)
      where (select ok from checked)
      returning 1
    ), floors as (
      insert into ${names.positionFloors} as f (type_name, position)
      select r.type_name, max(r.position) from unnest($1::text[], $4::bigint[]) as r(type_name, position)
      where (select ok from checked) group by r.type_name
      on conflict (type_name) do update set position = greatest(f.position, excluded.position)
    ), notified as (
      select pg_notify('${channel}', t) from unnest($17::text[]) as t
      where (select ok from checked) and (select count(*) from inserted) > 0
    )
    select (select ok from checked), (select count(*) from notified),
      (select array_agg(last_seq_no order by ord) from entities),
      (select array_agg(head order by ord) from types)`;
}
