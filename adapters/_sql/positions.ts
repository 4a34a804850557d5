// How appends number the events of a type name (`position`), shared by the append functions of
// schema.ts and the plain append statements of statements.ts.
//
// The rule (DESIGN.md): a reader that has seen position p never later finds an event below p. A
// plain sequence breaks it: numbers are handed out at insert time but transactions commit in
// any order, so a reader could see 7 before 6 commits and never look back (the gap problem).
//
// Here an append gives its events the positions after the last committed one of their type
// name, and a unique index on (type_name, position) refuses a number twice. An append can only
// number from what has committed, so every position below its own had committed before it was
// taken: the committed positions of a type name are always 1..n, dense, and nothing can commit
// below what a reader has seen. Two appends that number from the same last position cannot both
// commit: the second waits at the unique index for the first and fails with a unique violation
// if the first committed; the caller then sends it again through the append function.
//
// Three ways to learn the last position, cheapest first:
// - Known (known_positions.ts): the log wrote it itself and saw it commit, so the append is a
//   bare INSERT numbered after it. The next number is either free, and then the right one, or
//   taken by another writer, and then refused.
// - Lock and probe, in the plain statement (statements.ts): it tries the type name's
//   transaction-level advisory lock (two int4 keys: one for this schema and prefix, one for the
//   type name) and, when it gets it, reads the last position (an index probe on (type_name,
//   position)). Its snapshot is taken when the statement starts, before the lock, so a commit in
//   between leads to a refused position as above. When another append holds the lock, it writes
//   nothing and the caller uses the function.
// - The append functions (schema.ts) wait for the locks of their type names, then probe in a
//   statement of their own, whose snapshot sees the previous holder's events (plpgsql takes a
//   new snapshot for each statement in READ COMMITTED). Several type names are locked in key
//   order, so two appends never deadlock; two type names whose keys collide only wait for each
//   other. This is the way that waits instead of failing when writers in several processes
//   append one type name; the lock is held until commit.
// The lock is not what keeps readers from skipping events (the unique index is); it makes
// writers wait for each other instead of failing. Within one process group_commit.ts keeps one
// batch of a type name in flight, so there the first way is the usual one.
//
// Measured on the development machine against the bench's raw single-row INSERT (medians of
// 2,940 one-event appends each, interleaved by 20): the bare INSERT 0.97× its rate, the
// statement with lock and probe 0.84×. The counter row per type name of schema versions 1 and 2
// (an UPDATE in every append, holding the same kind of lock) measured 0.88× of the raw rate where
// the lock-and-probe statement measured 0.92× (medians of 16 rounds of 300). Reading only below
// pg_snapshot_xmin(pg_current_snapshot()) over a sequence, the other known technique, makes
// every reader lag behind the oldest open transaction of the whole database and gives no
// single-number position.

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
