// Version 2 of the schema: each event stores its version and metadata, each snapshot its version.
// The step adds the columns to the tables of version 1 in place (with a constant default, so
// PostgreSQL rewrites nothing and the rows written before read as version 1, without metadata)
// and adds append functions with the new parameters beside the old ones: processes of the
// previous release, still running during a rolling upgrade, go on appending through the old
// signatures, and their events read as version 1 without metadata, which is what that code
// wrote.
//
// Metadata columns are null when absent, so a row without metadata stores nothing for them.
// `written_at` is the server's clock_timestamp() taken after the append saw the entity's last
// event (its probe, or the commit this log waited for before sending an unchecked append), so
// it never goes back within an entity while the server's clock does not. now() would not do:
// it is the start of the transaction, which can precede the commit of the entity's previous
// event. The events of one append share one timestamp.

import type { SqlNames } from "./names.ts";
import { lastEventPosition, lockTypeNames } from "./positions.ts";
import type { LastPosition } from "./schema_v1.ts";

/** The statements of the step from version 1 to version 2 (see schema.ts). */
export function versionTwo(names: SqlNames): string {
  const { events, snapshots } = names;
  return `alter table ${events}
      add column version integer not null default 1,
      add column command_id text,
      add column correlation_id text,
      add column causation_id text,
      add column headers jsonb,
      alter column written_at set default clock_timestamp();
    alter table ${snapshots} add column version integer not null default 1;
    ${appendFunctionV2(names)}
    ${appendOneFunctionV2(names)}`;
}

// The group-commit append of version 1 (see schema_v1.ts for its parameters and rules), with
// each entity's version and metadata: p_versions, p_command_ids, p_correlation_ids,
// p_causation_ids and p_headers (JSON text) hold one element per entity, and each is null when
// no entity of the batch has a value for it (versions then default to 1).
//
// `position` builds the last-position expression and `replace` says whether the statement
// replaces an existing function: version 3 replaces this one with the floor (schema_v3.ts).
export function appendFunctionV2(
  names: SqlNames,
  position: LastPosition = lastEventPosition,
  replace = false,
): string {
  const { events, append, channel } = names;
  return `create ${replace ? "or replace " : ""}function ${append}(
    p_types text[], p_ids text[], p_expected bigint[], p_check boolean[],
    p_type_names text[],
    p_entity integer[], p_type integer[], p_seq integer[], p_rank integer[],
    p_start integer[], p_length integer[], p_bytes bytea, p_notify boolean,
    p_versions integer[], p_command_ids text[], p_correlation_ids text[],
    p_causation_ids text[], p_headers text[]
  ) returns table (o_accepted boolean, o_actual bigint)
  language plpgsql volatile as $append$
  declare
    v_actual bigint[];
    v_bases bigint[] := array[]::bigint[];
    v_key integer;
    v_now timestamptz;
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
      v_now := clock_timestamp();
      insert into ${events} (type_name, id, seq_no, position, bytes, written_at, version,
          command_id, correlation_id, causation_id, headers)
        select p_types[p_entity[k]], p_ids[p_entity[k]], p_expected[p_entity[k]] + p_seq[k],
          v_bases[p_type[k]] + p_rank[k], substring(p_bytes from p_start[k] for p_length[k]),
          v_now, coalesce(p_versions[p_entity[k]], 1), p_command_ids[p_entity[k]],
          p_correlation_ids[p_entity[k]], p_causation_ids[p_entity[k]],
          p_headers[p_entity[k]]::jsonb
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

// The append of a single event of version 1, with its version and metadata (p_headers: JSON
// text or null).
export function appendOneFunctionV2(
  names: SqlNames,
  position: LastPosition = lastEventPosition,
  replace = false,
): string {
  const { events, appendOne, channel } = names;
  return `create ${replace ? "or replace " : ""}function ${appendOne}(
    p_type text, p_id text, p_expected bigint, p_check boolean, p_bytes bytea, p_notify boolean,
    p_version integer, p_command_id text, p_correlation_id text, p_causation_id text,
    p_headers text,
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
    insert into ${events} (type_name, id, seq_no, position, bytes, written_at, version,
        command_id, correlation_id, causation_id, headers)
      values (p_type, p_id, p_expected + 1, ${position(names, "p_type")} + 1, p_bytes,
        clock_timestamp(), p_version, p_command_id, p_correlation_id, p_causation_id,
        p_headers::jsonb);
    if p_notify then
      perform pg_notify('${channel}', p_type);
    end if;
  end
  $append_one$;`;
}
