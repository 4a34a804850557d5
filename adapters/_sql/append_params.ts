// The parameters of the append statements (statements.ts) and functions (schema.ts) for a batch
// of persists: all event bytes packed into one bytea, with where each event starts and how long
// it is, so a batch is one parameter of bytes whatever its number of events.

import type { SqlParam } from "./client.ts";

/** What the parameters need of one persist. */
export interface AppendEntry {
  readonly typeName: string;
  readonly id: string;
  readonly lastSeqNo: number | null;
  /** Whether its last seqNo must be probed before writing (see schema.ts). */
  readonly check: boolean;
  readonly events: readonly Uint8Array[];
}

/** All event bytes of a batch in one array, with where each event starts (1-based) and its length. */
function packEvents(batch: readonly AppendEntry[]): {
  packed: Uint8Array;
  start: number[];
  length: number[];
} {
  let total = 0;
  for (const entry of batch) for (const bytes of entry.events) total += bytes.length;
  const packed = new Uint8Array(total);
  const start: number[] = [];
  const length: number[] = [];
  let offset = 0;
  for (const entry of batch) {
    for (const bytes of entry.events) {
      start.push(offset + 1);
      length.push(bytes.length);
      packed.set(bytes, offset);
      offset += bytes.length;
    }
  }
  return { packed, start, length };
}

/**
 * The parameters of the group-commit append function (see `schema.ts`); `checkAll` checks every
 * entity's last seqNo.
 */
export function appendParams(
  batch: readonly AppendEntry[],
  notify: boolean,
  checkAll: boolean,
): SqlParam[] {
  const types: string[] = [];
  const ids: string[] = [];
  const expected: number[] = [];
  const check: boolean[] = [];
  const typeIndex = new Map<string, number>();
  for (const entry of batch) typeIndex.set(entry.typeName, 0);
  const typeNames = [...typeIndex.keys()].sort();
  typeNames.forEach((name, i) => typeIndex.set(name, i + 1));
  const typeCounts: number[] = typeNames.map(() => 0);
  const entity: number[] = [];
  const type: number[] = [];
  const seq: number[] = [];
  const rank: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    const entry = batch[i]!;
    types.push(entry.typeName);
    ids.push(entry.id);
    expected.push(entry.lastSeqNo ?? 0);
    check.push(checkAll || entry.check);
    const t = typeIndex.get(entry.typeName)!;
    for (let n = 0; n < entry.events.length; n++) {
      entity.push(i + 1);
      type.push(t);
      seq.push(n + 1);
      rank.push(++typeCounts[t - 1]!);
    }
  }
  const { packed, start, length } = packEvents(batch);
  return [
    types,
    ids,
    expected,
    check,
    typeNames,
    entity,
    type,
    seq,
    rank,
    start,
    length,
    packed,
    notify,
  ];
}

/**
 * The parameters of the `appendUnchecked` statement for a batch of one type name whose entities
 * need no check; `undefined` when the batch holds several type names or an entity to check.
 */
export function uncheckedParams(
  batch: readonly AppendEntry[],
  notify: boolean,
): SqlParam[] | undefined {
  const typeName = batch[0]!.typeName;
  const ids: string[] = [];
  const seqNos: number[] = [];
  for (const entry of batch) {
    if (entry.check || entry.typeName !== typeName) return undefined;
    const base = entry.lastSeqNo ?? 0;
    for (let n = 1; n <= entry.events.length; n++) {
      ids.push(entry.id);
      seqNos.push(base + n);
    }
  }
  const { packed, start, length } = packEvents(batch);
  return [typeName, ids, seqNos, start, length, packed, notify];
}
