// The offsets of a projection over several types in the offset bucket: one key per projection
// name, `types.<name>`, holding every type's offset as one JSON object. A KV bucket cannot
// update two keys atomically, so all types of a name share one value, moved by compare-and-set
// on its revision. The "." keeps these keys apart from single-type keys (names have no ".").

import type { KV } from "@nats-io/kv";
import type { OffsetChange } from "../../projection/offset_store.ts";
import { StorageError } from "../../src/errors.ts";
import { assertTypeName } from "../../src/_validate.ts";
import { storageError } from "./_storage_errors.ts";

const TYPES_PREFIX = "types.";

/** The key of the type offsets of projection `name`. */
export function typeOffsetsKey(name: string): string {
  return `${TYPES_PREFIX}${name}`;
}

/** The projection name of a type offsets key, or `undefined` for any other key. */
export function nameOfTypeOffsetsKey(key: string): string | undefined {
  return key.startsWith(TYPES_PREFIX) ? key.slice(TYPES_PREFIX.length) : undefined;
}

/** The type offsets of one name as stored, with the revision a write must expect. */
export interface StoredTypeOffsets {
  readonly offsets: ReadonlyMap<string, number>;
  /** `0`: the key was never written. */
  readonly revision: number;
}

/** Encodes `offsets` in type name order, so equal maps are equal bytes. */
export function encodeTypeOffsets(offsets: ReadonlyMap<string, number>): string {
  const sorted = [...offsets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted));
}

/** Decodes a stored value; anything but an object of type names to offsets is corrupt data. */
export function decodeTypeOffsets(text: string, where: string): Map<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const offsets = new Map<string, number>();
  const valid = typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.entries(value).every(([type, offset]) => {
      offsets.set(type, offset as number);
      return Number.isSafeInteger(offset) && offset >= 0 && typeNameOk(type);
    });
  if (!valid) {
    throw new StorageError(
      `Invalid type offsets ${JSON.stringify(text.slice(0, 200))} stored for ${where}`,
      { reason: "corrupt-data" },
    );
  }
  return offsets;
}

function typeNameOk(type: string): boolean {
  try {
    assertTypeName(type);
    return true;
  } catch {
    return false;
  }
}

/** Reads the type offsets of `name` (none stored: an empty map at revision 0). */
export async function readTypeOffsets(
  kv: KV,
  name: string,
  bucket: string,
): Promise<StoredTypeOffsets> {
  let entry;
  try {
    entry = await kv.get(typeOffsetsKey(name));
  } catch (error) {
    throw storageError(`Cannot read the type offsets of projection "${name}"`, error, "read");
  }
  if (entry === null) return { offsets: new Map(), revision: 0 };
  if (entry.operation !== "PUT") return { offsets: new Map(), revision: entry.revision };
  const where = `projection "${name}" in bucket "${bucket}"`;
  return { offsets: decodeTypeOffsets(entry.string(), where), revision: entry.revision };
}

/** Checks the type names of `loadTypes`: a non-empty array of valid, distinct type names. */
export function assertTypeNames(typeNames: unknown): asserts typeNames is readonly string[] {
  if (!Array.isArray(typeNames) || typeNames.length === 0) {
    throw new TypeError(
      `Invalid typeNames ${String(typeNames)}: expected a non-empty array of type names`,
    );
  }
  for (const type of typeNames) assertTypeName(type);
  if (new Set(typeNames).size !== typeNames.length) {
    throw new TypeError(`Invalid typeNames ${JSON.stringify(typeNames)}: a type is repeated`);
  }
}

/** Checks the changes of `commitTypes`: a non-empty Map of type names to `{ from, to }`. */
export function assertTypeChanges(
  changes: unknown,
): asserts changes is ReadonlyMap<string, OffsetChange> {
  if (!(changes instanceof Map) || changes.size === 0) {
    throw new TypeError(
      `Invalid changes ${String(changes)}: expected a non-empty Map of type names to { from, to }`,
    );
  }
  for (const [type, change] of changes) {
    assertTypeName(type);
    const { from, to } = (change ?? {}) as Partial<OffsetChange>;
    if (!Number.isSafeInteger(from) || from! < 0 || !Number.isSafeInteger(to) || to! < 0) {
      throw new TypeError(
        `Invalid change of type "${type}" ${
          JSON.stringify(change)
        }: expected { from, to } of non-negative integers`,
      );
    }
  }
}
