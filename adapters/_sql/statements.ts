// The SQL statements of both adapters, built once per set of names. Every value is a
// parameter; only the validated, quoted names are part of the text.

import type { SqlNames } from "./names.ts";

/** The statements one adapter instance runs. */
export interface Statements {
  /** The group-commit append, see {@linkcode appendStatement}. */
  readonly append: string;
  /** The last seqNo of an entity: `$1` typeName, `$2` id. */
  readonly lastSeqNo: string;
  /**
   * The head (last seqNo) and first page of an entity's events: `$1` typeName, `$2` id, `$3`
   * from seqNo, `$4` limit. Rows: head, seqNo, position, bytes; one row with null event
   * columns when the page is empty. One statement, so page and head share a snapshot.
   */
  readonly eventsByIdFirst: string;
  /** A page of an entity's events: `$1` typeName, `$2` id, `$3` from, `$4` to, `$5` limit. */
  readonly eventsById: string;
  /** Like `eventsByIdFirst` by position: `$1` typeName, `$2` from position, `$3` limit. */
  readonly eventsByTypeFirst: string;
  /** A page by position: `$1` typeName, `$2` from, `$3` to, `$4` limit. */
  readonly eventsByType: string;
  /**
   * Saves a snapshot unless `$5` (keep) newer ones exist, then deletes all but the newest
   * `$5`: `$1` typeName, `$2` id, `$3` seqNo, `$4` bytes.
   */
  readonly saveSnapshot: string;
  /** The newest snapshot: `$1` typeName, `$2` id. Rows: seqNo, bytes. */
  readonly loadSnapshot: string;
}

/** Builds the statements for `names`. */
export function statements(names: SqlNames): Statements {
  const { events, positions, snapshots } = names;
  return {
    append: appendStatement(names),
    // `order by … desc limit 1` rather than max(): always one index probe (see schema.ts).
    lastSeqNo: `select seq_no from ${events} where type_name = $1::text and id = $2::text
      order by seq_no desc limit 1`,
    eventsByIdFirst: `select h.head, e.seq_no, e.position, e.bytes
      from (select (select seq_no from ${events} where type_name = $1::text and id = $2::text
        order by seq_no desc limit 1) as head) as h
      left join lateral (select seq_no, position, bytes from ${events}
        where type_name = $1::text and id = $2::text and seq_no >= $3::bigint
        order by seq_no limit $4::integer) as e on true`,
    eventsById: `select seq_no, position, bytes from ${events}
      where type_name = $1::text and id = $2::text and seq_no between $3::bigint and $4::bigint
      order by seq_no limit $5::integer`,
    eventsByTypeFirst: `select h.head, e.id, e.seq_no, e.position, e.bytes
      from (select max(position) as head from ${positions} where type_name = $1::text) as h
      left join lateral (select id, seq_no, position, bytes from ${events}
        where type_name = $1::text and position >= $2::bigint
        order by position limit $3::integer) as e on true`,
    eventsByType: `select id, seq_no, position, bytes from ${events}
      where type_name = $1::text and position between $2::bigint and $3::bigint
      order by position limit $4::integer`,
    saveSnapshot: `with saved as (
        insert into ${snapshots} (type_name, id, seq_no, bytes)
        select $1::text, $2::text, $3::bigint, $4::bytea
        where (select count(*) from (select 1 from ${snapshots}
          where type_name = $1::text and id = $2::text and seq_no > $3::bigint
          limit $5::integer) as newer) < $5::integer
        on conflict (type_name, id, seq_no)
          do update set bytes = excluded.bytes, written_at = now()
        returning seq_no
      )
      delete from ${snapshots}
      where type_name = $1::text and id = $2::text and seq_no < (
        select s.seq_no from (
          select seq_no from ${snapshots} where type_name = $1::text and id = $2::text
          union select seq_no from saved
        ) as s order by s.seq_no desc offset $5::integer - 1 limit 1)`,
    loadSnapshot: `select seq_no, bytes from ${snapshots}
      where type_name = $1::text and id = $2::text order by seq_no desc limit 1`,
  };
}

// The group-commit append: many entities, each with its own expected last seqNo, written by one
// statement, so one transaction and one round trip. Parameters: $1 type names, $2 ids, $3
// expected last seqNos (0: none), one per entity; $4 the entity (1-based) of each event, $5 and
// $6 where its bytes start (1-based) and how long they are in $7, all events packed into one
// bytea; $8 whether to NOTIFY. Rows: accepted, actual last seqNo; one per entity, in order.
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
function appendStatement(names: SqlNames): string {
  const { events, positions, channel } = names;
  return `with entity as (
      select i, ($1::text[])[i] as type_name, ($2::text[])[i] as id, ($3::bigint[])[i] as expected,
        coalesce((select e.seq_no from ${events} as e
          where e.type_name = ($1::text[])[i] and e.id = ($2::text[])[i]
          order by e.seq_no desc limit 1), 0) as actual
      from generate_subscripts($1::text[], 1) as i
    ), ok as (
      select k, en.type_name, en.id,
        en.expected + row_number() over (partition by en.i order by k) as seq_no,
        row_number() over (partition by en.type_name order by k) as rank
      from generate_subscripts($4::integer[], 1) as k
      join entity as en on en.i = ($4::integer[])[k]
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
        substring($7::bytea from ($5::integer[])[ok.k] for ($6::integer[])[ok.k])
      from ok join counter using (type_name) join counts using (type_name)
    ), notified as (
      select count(pg_notify('${channel}', type_name)) as n from counts where $8::boolean
    )
    select en.actual = en.expected, en.actual
    from entity as en cross join notified
    order by en.i`;
}
