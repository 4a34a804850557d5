// The statements that delete: an entity's events up to a seqNo, all of them, and its snapshots.
// Every value is a parameter; only the validated, quoted names are part of the text.
//
// A deletion that takes any event raises its type name's floor to the type's last position
// (positions.ts) in the same statement, so every snapshot sees either the deleted events or the
// floor: appends never number at or below a position a reader may have seen, and an append at a
// position its log knew is refused when a deletion freed one above it.

import type { SqlNames } from "./names.ts";
import { lastPosition } from "./positions.ts";

/** The deleting statements of one set of names. */
export interface DeleteStatements {
  /**
   * Deletes the entity's events with a seqNo up to `$3`, except its last: `$1` typeName, `$2`
   * id. One row: the number deleted.
   */
  readonly deleteEvents: string;
  /** Deletes every event of the entity: `$1` typeName, `$2` id. One row: the number deleted. */
  readonly deleteEntity: string;
  /** Deletes every snapshot of the entity: `$1` typeName, `$2` id. No rows. */
  readonly deleteSnapshots: string;
}

/** Builds the deleting statements for `names`. */
export function deleteStatements(names: SqlNames): DeleteStatements {
  const { events } = names;
  const deleting = (where: string) =>
    `with deleted as (
      delete from ${events} where type_name = $1::text and id = $2::text${where}
      returning 1
    ), floor as (
      insert into ${names.positionFloors} as f (type_name, position)
      select $1::text, ${lastPosition(names, "$1::text")} where exists (select from deleted)
      on conflict (type_name) do update set position = greatest(f.position, excluded.position)
    )
    select count(*) from deleted`;
  return {
    deleteEvents: deleting(` and seq_no <= least($3::bigint, (select e.seq_no from ${events} as e
      where e.type_name = $1::text and e.id = $2::text order by e.seq_no desc limit 1) - 1)`),
    deleteEntity: deleting(""),
    deleteSnapshots: `delete from ${names.snapshots} where type_name = $1::text and id = $2::text`,
  };
}
