// The parameters of the append statements (statements.ts) and functions (schema_v2.ts) for a
// batch of persists: all event bytes packed into one bytea, with where each event starts and how
// long it is, so a batch is one parameter of bytes whatever its number of events. Versions and
// metadata go as arrays beside them (metadata_columns.ts), left out (or null for the function)
// when no persist of the batch has any, so such batches cost what they cost before.

import type { EventMetadata } from "../../src/event_metadata.ts";
import type { SqlParam } from "./client.ts";
import { hasMetadata, type MetadataParams, metadataParams } from "./metadata_columns.ts";

/** What the parameters need of one persist. */
export interface AppendEntry {
  readonly typeName: string;
  readonly id: string;
  readonly lastSeqNo: number | null;
  /** Whether its last seqNo must be probed before writing (see schema_v1.ts). */
  readonly check: boolean;
  readonly events: readonly Uint8Array[];
  /** The version of its events (1 by default). */
  readonly version: number;
  /** Their metadata (`EMPTY_METADATA` when none). */
  readonly metadata: EventMetadata;
}

/** Whether any persist of `batch` has a version or metadata to store. */
export function batchHasMetadata(batch: readonly AppendEntry[]): boolean {
  for (const entry of batch) if (hasMetadata(entry.version, entry.metadata)) return true;
  return false;
}

// Five arrays (version, the three ids, headers) of one element per item, as parameters: an
// array whose elements are all the default (version 1, no value) goes as null instead, which the
// statements read as the default for every item (unnest pads it with nulls), so a batch sends
// and the server parses only the columns it uses.
class MetadataArrays {
  readonly #arrays: (number | string | null)[][] = [[], [], [], [], []];
  readonly #used = [false, false, false, false, false];

  push(values: MetadataParams): void {
    for (let i = 0; i < 5; i++) {
      const value = values[i]!;
      this.#arrays[i]!.push(value);
      if (value !== null && value !== 1) this.#used[i] = true;
    }
  }

  params(): SqlParam[] {
    return this.#arrays.map((array, i) => this.#used[i] ? array as SqlParam : null);
  }
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
 * The parameters of the group-commit append function (see `schema_v2.ts`); `checkAll` checks
 * every entity's last seqNo.
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
  let metadata: SqlParam[] = [null, null, null, null, null];
  if (batchHasMetadata(batch)) {
    const arrays = new MetadataArrays();
    for (const entry of batch) arrays.push(metadataParams(entry.version, entry.metadata));
    metadata = arrays.params();
  }
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
    ...metadata,
  ];
}

/**
 * The parameters of the plain `appendUnchecked` statement for a batch of one type name
 * (`params`, and when `withMetadata` the version and metadata arrays of `plainWithMetadata`, one
 * element per event), and whether an entity of it needs the check (the `…Checked` statements);
 * `undefined` when the batch holds several type names.
 */
export function plainParams(
  batch: readonly AppendEntry[],
  notify: boolean,
  withMetadata: boolean,
): { params: SqlParam[]; metadata: SqlParam[]; checked: boolean } | undefined {
  const typeName = batch[0]!.typeName;
  const ids: string[] = [];
  const seqNos: number[] = [];
  const metadata = new MetadataArrays();
  let checked = false;
  for (const entry of batch) {
    if (entry.typeName !== typeName) return undefined;
    checked ||= entry.check;
    const base = entry.lastSeqNo ?? 0;
    const values = withMetadata ? metadataParams(entry.version, entry.metadata) : undefined;
    for (let n = 1; n <= entry.events.length; n++) {
      ids.push(entry.id);
      seqNos.push(base + n);
      if (values !== undefined) metadata.push(values);
    }
  }
  const { packed, start, length } = packEvents(batch);
  return {
    params: [typeName, ids, seqNos, start, length, packed, notify],
    metadata: withMetadata ? metadata.params() : [],
    checked,
  };
}
