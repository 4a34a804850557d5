// Version 1 of the schema, as released: events, snapshots, projection offsets and the append
// functions of that release. A database set up by that release is at this version; schema.ts
// creates it whole on an empty database and then applies the later steps, so every database
// goes through the same upgrades. Never change this text: change the schema with a new step.

import type { SqlNames } from "./names.ts";
import { lastEventPosition, lockTypeNames } from "./positions.ts";

/** Builds the SQL expression of the last position of a type name (see positions.ts). */
export type LastPosition = (names: SqlNames, typeName: string) => string;

// Version 1: events, snapshots, projection offsets and the append functions. The events table
// has no check constraints: PostgreSQL evaluates them in every inserting statement, and they
// would only repeat what the adapter checks (ids) or computes (seqNos, positions) before any
// write. The tables written less often keep theirs.
export function versionOne(names: SqlNames): string {
  const { events, snapshots, offsets, prefix } = names;
  return `create table ${events} (
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
    create table ${offsets} (
      name text primary key,
      position bigint not null check (position >= 0),
      updated_at timestamptz not null default now()
    );
    ${appendFunctionV1(names)}
    ${appendOneFunctionV1(names)}`;
}

// The group-commit append: the events of many entities, each with its own expected last seqNo,
// in one call (one transaction, one round trip). Per entity: type name, id, expected last seqNo
// (0: none) and whether to check it. Per distinct type name, in name order: the name. Per event:
// its entity and type name (1-based indexes), its seqNo offset within its entity, its rank within
// its type name, and where its bytes start (1-based) and how long they are in p_bytes. Rows:
// accepted, actual last seqNo; one per entity, in order. A plpgsql function, so both drivers
// reuse its cached plans.
//
// The primary key refuses a writer that is behind (its first seqNo exists); a writer that is
// ahead would leave a gap, so an entity flagged p_check has its last seqNo probed first. The
// caller leaves the flag off only where the probe cannot find anything else (see
// sql_append.ts). If any checked entity differs, nothing is written and the outcomes go back.
// Positions: under the advisory locks of its type names, after the last committed position of
// each (positions.ts).
//
// `position` builds the last-position expression: as released, the last event's; version 3
// replaces the function with one that also honours the floor (schema_v3.ts).
export function appendFunctionV1(
  names: SqlNames,
  position: LastPosition = lastEventPosition,
): string {
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
        v_bases := v_bases || ${position(names, "p_type_names[t]")};
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
export function appendOneFunctionV1(
  names: SqlNames,
  position: LastPosition = lastEventPosition,
): string {
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
      values (p_type, p_id, p_expected + 1, ${position(names, "p_type")} + 1, p_bytes);
    if p_notify then
      perform pg_notify('${channel}', p_type);
    end if;
  end
  $append_one$;`;
}
