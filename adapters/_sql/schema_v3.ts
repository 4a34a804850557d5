// Version 3 of the schema: what forgetting and reading across types need.
// - `position_floors`: per type name, the type's last position when a deletion last took some of
//   its events; appends number after it (positions.ts), so a position a reader has seen is never
//   given to a later event. The append functions of versions 1 and 2 are replaced, with their
//   signatures, by ones that number after the floor: processes of the previous release that
//   call them keep the rule too. Their plain statements do not: delete no events while a process
//   of a release before version 3 still appends.
// - `keys`: the per-entity encryption keys of crypto-shredding; deleting a row forgets the
//   entity's encrypted data for good.
// - `type_offsets`: the offsets of projections over several types, one row per projection name
//   and type name, moved in the same transaction as the read model's writes. Projections over
//   one type keep their row in `projection_offsets`, so processes of the previous release go on
//   unchanged during a rolling upgrade.

import type { SqlNames } from "./names.ts";
import { lastPosition } from "./positions.ts";
import { appendFunctionV1, appendOneFunctionV1 } from "./schema_v1.ts";
import { appendFunctionV2, appendOneFunctionV2 } from "./schema_v2.ts";

export function versionThree(names: SqlNames): string {
  const { positionFloors, keys, typeOffsets, prefix } = names;
  return `create table ${positionFloors} (
      type_name text primary key,
      position bigint not null check (position >= 1)
    );
    create table ${keys} (
      type_name text not null,
      id text not null,
      key_id bytea not null,
      key bytea not null,
      created_at timestamptz not null default now(),
      constraint "${prefix}keys_pkey" primary key (type_name, id)
    );
    create table ${typeOffsets} (
      name text not null,
      type_name text not null,
      position bigint not null check (position >= 0),
      updated_at timestamptz not null default now(),
      constraint "${prefix}type_offsets_pkey" primary key (name, type_name)
    );
    ${appendFunctionV1(names, lastPosition)}
    ${appendOneFunctionV1(names, lastPosition)}
    ${appendFunctionV2(names, lastPosition, true)}
    ${appendOneFunctionV2(names, lastPosition, true)}`;
}
