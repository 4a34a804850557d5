// How appends number the events of a type name (`position`), shared by the append functions of
// schema.ts and the plain append statements of statements.ts.
//
// The rule (docs/event-log-rules.md): a reader that has seen position p never later finds an
// event below p. A sequence breaks it, as transactions commit in any order. So an append numbers
// its events after the last committed position of their type name, and a unique index on
// (type_name, position) refuses a number twice: the committed positions are always 1..n, and two
// appends that number from the same last position cannot both commit (the second fails with a
// unique violation and goes again through the append function).
//
// Three ways to learn the last position, cheapest first:
// - Known (known_positions.ts): this log wrote it and saw it commit, so the append is a bare
//   INSERT after it; a number another writer took is refused by the index.
// - Lock and probe, in one plain statement (statements.ts): it tries the type name's
//   transaction-level advisory lock and, when it gets it, probes the index. When another append
//   holds the lock, it writes nothing and the caller uses the function.
// - The append functions (schema.ts) wait for the locks of their type names, in key order so two
//   appends never deadlock, then probe in a statement of their own, whose snapshot sees the
//   previous holder's events. This is the way that waits instead of failing when several
//   processes append one type name.
// The lock only makes writers wait for each other instead of failing; the unique index is what
// keeps readers from skipping events. bench/README.md ("Why the SQL log does what it does") has
// the measurements behind this choice.

import type { SqlNames } from "./names.ts";

/** The first advisory lock key of these names' tables (an SQL expression). */
function lockClass(names: SqlNames): string {
  return `hashtext('${names.lockKey}')`;
}

/**
 * An SQL expression: the last committed position of an event of `typeName` (an SQL
 * expression), or 0. The append functions of schema versions 1 and 2, as released, number after
 * it; from version 3 on, appends number after `lastPosition`.
 */
export function lastEventPosition(names: SqlNames, typeName: string): string {
  return `coalesce((select e.position from ${names.events} as e where e.type_name = ${typeName}
    order by e.position desc limit 1), 0)`;
}

/**
 * An SQL expression: the last position `typeName` (an SQL expression) has had, or 0: the last
 * committed event's, or the type name's floor if a deletion took events at or above it
 * (schema_v3.ts). Deleting an entity can take the type's newest events; numbering after the
 * floor keeps a position a reader has seen from being given to a later event. The floor is one
 * primary-key probe.
 */
export function lastPosition(names: SqlNames, typeName: string): string {
  return `greatest(${lastEventPosition(names, typeName)}, coalesce((select f.position
    from ${names.positionFloors} as f where f.type_name = ${typeName}), 0))`;
}

/**
 * An SQL condition: true when no deletion took a position of `typeName` (an SQL expression)
 * above `known` (an SQL expression). An append at a position this log knew checks it, as the
 * unique index cannot refuse a position whose event was deleted. The check sees what committed
 * before its statement began: another writer's events that commit and are deleted while the
 * statement runs are not seen. That needs an entity written to and deleted from within one
 * statement's run, which the rule that an entity deleted whole runs nowhere excludes, and a
 * partial deletion (which keeps the entity's last event) leaves to a narrow window.
 */
export function noFloorAbove(names: SqlNames, typeName: string, known: string): string {
  return `not exists (select from ${names.positionFloors} as f
    where f.type_name = ${typeName} and f.position > ${known})`;
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
