// How appends number the events of a type name (`position`), shared by the append functions of
// schema.ts and the plain append statements of statements.ts.
//
// The rule (DESIGN.md): a reader that has seen position p never later finds an event below p. A
// plain sequence breaks it: numbers are handed out at insert time but transactions commit in
// any order, so a reader could see 7 before 6 commits and never look back (the gap problem).
//
// Here an append gives its events the positions after the last committed one of their type
// name (an index probe on (type_name, position)), and a unique index on (type_name, position)
// refuses a number twice. An append can only number from what has committed, so every position
// below its own had committed before it was taken: the committed positions of a type name are
// always 1..n, dense, and nothing can commit below what a reader has seen. Two appends that
// number from the same last position cannot both commit: the second waits at the unique index
// for the first and fails with a unique violation if the first committed.
//
// So that appends of one type name wait for each other instead of failing, an append holds a
// transaction-level advisory lock on its type name (two int4 keys: one for this schema and
// prefix, one for the type name) from before it numbers its events until it commits, and the
// append functions number only after the lock is theirs, in a statement of their own, whose
// snapshot therefore sees the previous holder's events (plpgsql takes a new snapshot for each
// statement in READ COMMITTED). Several type names are locked in key order, so two appends never
// deadlock; two type names whose keys collide only wait for each other.
//
// The plain one-statement append (statements.ts) cannot number after its lock: its snapshot is
// taken when the statement starts. It only tries the lock: when another append holds it, the
// statement writes nothing and the caller sends the append through the function, which waits.
// When the lock is free but an append committed between the statement's snapshot and its lock,
// its positions are taken already: the unique violation sends the batch through the function as
// well (sql_event_log.ts). Within one process group_commit.ts keeps one batch of a type name in
// flight, so the try succeeds but for writers in other processes.
//
// Compared with the counter row per type name of schema versions 1 and 2 (an UPDATE that held
// the same kind of lock), this leaves one row to write per event instead of two; measured on the
// development machine, a one-event append statement took 410 us against 431 us (raw INSERT:
// 379 us, medians of 16 rounds of 300). The alternative that keeps writers of one type name
// apart, reading only below pg_snapshot_xmin(pg_current_snapshot()) over a sequence, makes every
// reader lag behind the oldest open transaction of the whole database and gives no single-number
// position.

import type { SqlNames } from "./names.ts";

/** The first advisory lock key of these names' tables (an SQL expression). */
function lockClass(names: SqlNames): string {
  return `hashtext('${names.lockKey}')`;
}

/** An SQL expression: the last committed position of `typeName` (an SQL expression), or 0. */
export function lastPosition(names: SqlNames, typeName: string): string {
  return `coalesce((select e.position from ${names.events} as e where e.type_name = ${typeName}
    order by e.position desc limit 1), 0)`;
}

/** An SQL expression: true when this transaction got the lock of `typeName`, without waiting. */
export function tryLockTypeName(names: SqlNames, typeName: string): string {
  return `pg_try_advisory_xact_lock(${lockClass(names)}, hashtext(${typeName}))`;
}

/** plpgsql statements that wait for the locks of the type names in the text[] `typeNames`. */
export function lockTypeNames(names: SqlNames, typeNames: string): string {
  return `for v_key in select distinct hashtext(t) from unnest(${typeNames}) as t order by 1 loop
        perform pg_advisory_xact_lock(${lockClass(names)}, v_key);
      end loop;`;
}
