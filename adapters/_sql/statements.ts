// The SQL statements of both adapters, built once per set of names. Every value is a
// parameter; only the validated, quoted names are part of the text.

import type { SqlNames } from "./names.ts";
import { BY_ID_ITEM, BY_TYPE_ITEM, packedPageSql, PAGE_COLUMNS } from "./packed_page.ts";
import { lastEventPosition, lastPosition, noFloorAbove, tryLockTypeName } from "./positions.ts";

/**
 * The plain appends (without the functions) of one row shape: `Statements.plain` writes rows of
 * version 1 without metadata, `Statements.plainWithMetadata` takes after the parameters given
 * here the version and metadata (metadata_columns.ts): five scalars for the one-event
 * statements, five arrays of one element per event for the others (null where every event has
 * the default: version 1, no value).
 */
export interface PlainAppends {
  /**
   * The append without checks of the events of one type name (see the append function in
   * schema_v1.ts for when no check is needed): `$1` typeName, then per event `$2` id, `$3`
   * seqNo, `$4` start and `$5` length of its bytes (1-based) in `$6`, and `$7` notify.
   * One row: the number of events written and the last position taken; 0 events when another
   * append holds the type name's lock (the append then goes through the function, which waits
   * for it; see positions.ts).
   */
  readonly appendUnchecked: string;
  /**
   * The same for one event, with scalar parameters: `$1` typeName, `$2` id, `$3` seqNo, `$4`
   * bytes, `$5` notify. One row: 1 or 0 events, and the position taken.
   */
  readonly appendUncheckedOne: string;
  /**
   * The events of one type name at known positions (see positions.ts), without a notification:
   * `$1` typeName, then per event `$2` id, `$3` seqNo, `$4` start and `$5` length of its bytes
   * (1-based) in `$6`, and `$7` the position before the first. One row: the number of events
   * written, 0 when a deletion took a position above the known one (the append then goes
   * through the function).
   */
  readonly insertMany: string;
  /** The same with a notification. */
  readonly insertManyNotify: string;
  /**
   * One event at a known position, without a notification: `$1` typeName, `$2` id, `$3` seqNo,
   * `$4` position, `$5` bytes. One row: 1 or 0 events, as `insertMany`.
   */
  readonly insertOne: string;
  /** The same with a notification. */
  readonly insertOneNotify: string;
}

/** The statements one adapter instance runs. */
export interface Statements {
  /**
   * The group-commit append: a call of the function that `schema_v2.ts` creates, with its
   * parameters in order.
   */
  readonly append: string;
  /**
   * The append of one event: `$1` typeName, `$2` id, `$3` expected, `$4` check, `$5` bytes,
   * `$6` notify, then its version and metadata (`$7` … `$11`).
   */
  readonly appendOne: string;
  /** The plain appends of rows of version 1 without metadata. */
  readonly plain: PlainAppends;
  /** The plain appends of rows with a version and metadata. */
  readonly plainWithMetadata: PlainAppends;
  /**
   * `plain`, each statement also checking that every entity's last seqNo is the one before its
   * first event's (writing nothing when one is not).
   */
  readonly plainChecked: PlainAppends;
  /** `plainWithMetadata` with the same check. */
  readonly plainWithMetadataChecked: PlainAppends;
  /** The last position of a type name, 0 when it has none: `$1` typeName. */
  readonly head: string;
  /**
   * The last position of an event of a type name, 0 when it has none: `$1` typeName. Below
   * `head` when a deletion took the type's newest events.
   */
  readonly lastEvent: string;
  /** A notification per type name, on its own: `$1` type names. */
  readonly notify: string;
  /** The last seqNo of an entity: `$1` typeName, `$2` id. */
  readonly lastSeqNo: string;
  /**
   * The head (last seqNo) and first packed page of an entity's events: `$1` typeName, `$2` id,
   * `$3` from seqNo, `$4` limit, `$5` page bytes. One row: head, then the page columns of
   * `packed_page.ts`. One statement, so page and head share a snapshot.
   */
  readonly eventsByIdFirst: string;
  /**
   * A packed page of an entity's events: `$1` typeName, `$2` id, `$3` from, `$4` to, `$5`
   * limit, `$6` page bytes.
   */
  readonly eventsById: string;
  /** Like `eventsByIdFirst` by position: `$1` typeName, `$2` from, `$3` limit, `$4` page bytes. */
  readonly eventsByTypeFirst: string;
  /** A packed page by position: `$1` typeName, `$2` from, `$3` to, `$4` limit, `$5` page bytes. */
  readonly eventsByType: string;
  /**
   * Saves a snapshot unless `$5` (keep) newer ones exist, then deletes all but the newest
   * `$5`: `$1` typeName, `$2` id, `$3` seqNo, `$4` bytes, `$6` version.
   */
  readonly saveSnapshot: string;
  /** The newest snapshot: `$1` typeName, `$2` id. Rows: seqNo, bytes, version. */
  readonly loadSnapshot: string;
}

/** Builds the statements for `names`. */
export function statements(names: SqlNames): Statements {
  const { events, snapshots } = names;
  return {
    append: `select o_accepted, o_actual from ${names.append}($1::text[], $2::text[],
      $3::bigint[], $4::boolean[], $5::text[], $6::integer[], $7::integer[], $8::integer[],
      $9::integer[], $10::integer[], $11::integer[], $12::bytea, $13::boolean, $14::integer[],
      $15::text[], $16::text[], $17::text[], $18::text[])`,
    appendOne: `select o_accepted, o_actual from ${names.appendOne}($1::text, $2::text,
      $3::bigint, $4::boolean, $5::bytea, $6::boolean, $7::integer, $8::text, $9::text,
      $10::text, $11::text)`,
    plain: plainAppends(names, false, false),
    plainWithMetadata: plainAppends(names, true, false),
    plainChecked: plainAppends(names, false, true),
    plainWithMetadataChecked: plainAppends(names, true, true),
    head: `select ${lastPosition(names, "$1::text")}`,
    lastEvent: `select ${lastEventPosition(names, "$1::text")}`,
    notify: `select pg_notify('${names.channel}', t) from unnest($1::text[]) as t`,
    // `order by … desc limit 1` rather than max(): always one index probe, where max() can
    // scan the whole entity when statistics are missing.
    lastSeqNo: `select seq_no from ${events} where type_name = $1::text and id = $2::text
      order by seq_no desc limit 1`,
    eventsByIdFirst: `select (select seq_no from ${events}
        where type_name = $1::text and id = $2::text order by seq_no desc limit 1) as head, page.*
      from (${
      packedPageSql(
        `select ${PAGE_COLUMNS} from ${events}
          where type_name = $1::text and id = $2::text and seq_no >= $3::bigint
          order by seq_no limit $4::integer`,
        "seq_no",
        BY_ID_ITEM,
        "$5::bigint",
      )
    }) as page`,
    eventsById: packedPageSql(
      `select ${PAGE_COLUMNS} from ${events}
        where type_name = $1::text and id = $2::text and seq_no between $3::bigint and $4::bigint
        order by seq_no limit $5::integer`,
      "seq_no",
      BY_ID_ITEM,
      "$6::bigint",
    ),
    // Ids are packed as UTF-8 bytes: some drivers decode text with a TextDecoder that drops a
    // leading U+FEFF, which would hand one entity's events out under another id.
    eventsByTypeFirst: `select nullif(${lastPosition(names, "$1::text")}, 0) as head, page.*
      from (${
      packedPageSql(
        `select id, ${PAGE_COLUMNS} from ${events}
          where type_name = $1::text and position >= $2::bigint
          order by position limit $3::integer`,
        "position",
        BY_TYPE_ITEM,
        "$4::bigint",
      )
    }) as page`,
    eventsByType: packedPageSql(
      `select id, ${PAGE_COLUMNS} from ${events}
        where type_name = $1::text and position between $2::bigint and $3::bigint
        order by position limit $4::integer`,
      "position",
      BY_TYPE_ITEM,
      "$5::bigint",
    ),
    saveSnapshot: `with saved as (
        insert into ${snapshots} (type_name, id, seq_no, bytes, version)
        select $1::text, $2::text, $3::bigint, $4::bytea, $6::integer
        where (select count(*) from (select 1 from ${snapshots}
          where type_name = $1::text and id = $2::text and seq_no > $3::bigint
          limit $5::integer) as newer) < $5::integer
        on conflict (type_name, id, seq_no)
          do update set bytes = excluded.bytes, version = excluded.version, written_at = now()
        returning seq_no
      )
      delete from ${snapshots}
      where type_name = $1::text and id = $2::text and seq_no < (
        select s.seq_no from (
          select seq_no from ${snapshots} where type_name = $1::text and id = $2::text
          union select seq_no from saved
        ) as s order by s.seq_no desc offset $5::integer - 1 limit 1)`,
    loadSnapshot: `select seq_no, bytes, version from ${snapshots}
      where type_name = $1::text and id = $2::text order by seq_no desc limit 1`,
  };
}

// The plain appends of one row shape (see PlainAppends). Every statement takes one
// clock_timestamp() for all its rows (an uncorrelated scalar subquery runs once per statement),
// after this log saw the entity's previous event commit (schema_v2.ts says why).
function plainAppends(names: SqlNames, withMetadata: boolean, checked: boolean): PlainAppends {
  const metadataColumns = withMetadata
    ? ", version, command_id, correlation_id, causation_id, headers"
    : "";
  const insertInto = `insert into ${names.events} (type_name, id, seq_no, position, bytes,
    written_at${metadataColumns})`;
  // One event's version and metadata: scalar parameters from `$6`.
  const oneMetadata = withMetadata
    ? ", $6::integer, $7::text, $8::text, $9::text, $10::text::jsonb"
    : "";
  // The events of one type name as rows `e`: `$2` ids, `$3` seqNos, `$4` starts and `$5`
  // lengths of their bytes in `$6`, each one's rank (1, 2, 3 …), and its version and metadata
  // from `$8`.
  const eventRows = withMetadata
    ? `unnest($2::text[], $3::bigint[], $4::integer[], $5::integer[], $8::integer[], $9::text[],
      $10::text[], $11::text[], $12::text[])
      with ordinality as e(id, seq_no, start, length, version, command_id, correlation_id,
        causation_id, headers, rank)`
    : `unnest($2::text[], $3::bigint[], $4::integer[], $5::integer[])
      with ordinality as e(id, seq_no, start, length, rank)`;
  const eventValues = "substring($6::bytea from e.start for e.length), (select clock_timestamp())" +
    (withMetadata
      ? ", coalesce(e.version, 1), e.command_id, e.correlation_id, e.causation_id, e.headers::jsonb"
      : "");
  // The checked statements write only when each entity's last seqNo is the one before its first
  // event's, the check of the append functions (schema_v1.ts) in the same statement: an entity
  // this log has not written (or no longer remembers) then costs one more probe of the index
  // the insert touches anyway, not a plpgsql call that forgets the known position.
  const lastSeqNoOf = (id: string) =>
    `coalesce((select s.seq_no from ${names.events} as s where s.type_name = $1::text
      and s.id = ${id} order by s.seq_no desc limit 1), 0)`;
  const manyCheck = checked
    ? ` and not exists (select from (select u.id, min(u.seq_no) as first
        from unnest($2::text[], $3::bigint[]) as u(id, seq_no) group by u.id) as c
      where ${lastSeqNoOf("c.id")} <> c.first - 1)`
    : "";
  const oneCheck = checked ? ` and ${lastSeqNoOf("$2::text")} = $3::bigint - 1` : "";
  // A deletion can free a position above the known one, which the unique index would then let
  // through: the floor (positions.ts) refuses it.
  const insertMany = `${insertInto}
    select $1::text, e.id, e.seq_no, $7::bigint + e.rank, ${eventValues} from ${eventRows}
    where ${noFloorAbove(names, "$1::text", "$7::bigint")}${manyCheck}`;
  const insertOne = `${insertInto}
    select $1::text, $2::text, $3::bigint, $4::bigint, $5::bytea, clock_timestamp()${oneMetadata}
    where ${noFloorAbove(names, "$1::text", "$4::bigint - 1")}${oneCheck}`;
  const written = (insert: string) =>
    `with written as (${insert} returning 1)
      select count(*), (select pg_notify('${names.channel}', $1::text)
        where exists (select from written)) from written`;
  return {
    // One plain statement instead of a plpgsql call, for drivers that keep statement plans.
    // Positions as in positions.ts, when the type name's lock is free; the primary key refuses a
    // writer that is behind (a unique violation: nothing is written).
    appendUnchecked: `with locked as materialized (
        select ${tryLockTypeName(names, "$1::text")} as ok
      ), written as (
        ${insertInto}
        select $1::text, e.id, e.seq_no, ${lastPosition(names, "$1::text")} + e.rank,
          ${eventValues}
        from locked, ${eventRows}
        where locked.ok${manyCheck}
        returning position
      )
      select count(*), max(position), (select pg_notify('${names.channel}', $1::text)
        where $7::boolean and exists (select 1 from written))
      from written`,
    // Scalar parameters let the server keep one generic plan; array parameters make it plan each
    // call for their length.
    appendUncheckedOne: `with locked as materialized (
        select ${tryLockTypeName(names, "$1::text")} as ok
      ), written as (
        ${insertInto}
        select $1::text, $2::text, $3::bigint, ${lastPosition(names, "$1::text")} + 1, $4::bytea,
          clock_timestamp()${oneMetadata}
        from locked where locked.ok${oneCheck}
        returning position
      )
      select count(*), max(position), (select pg_notify('${names.channel}', $1::text)
        where $5::boolean and exists (select 1 from written))
      from written`,
    // The same without lock and probe, where this log knows the last position (positions.ts),
    // and, as most appends carry no NOTIFY (notify_pacer.ts), without one.
    insertMany: `with written as (${insertMany} returning 1) select count(*) from written`,
    insertManyNotify: written(insertMany),
    // An insert with one probe of the floor, the cheapest append there is; most sequential
    // appends are this one, notifications being paced (notify_pacer.ts).
    insertOne: `with written as (${insertOne} returning 1) select count(*) from written`,
    insertOneNotify: written(insertOne),
  };
}
