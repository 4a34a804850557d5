// Checks of the arguments of the offset stores' calls for projections over several types, made
// before anything is read or stored, so a bad call fails with a message naming what is wrong.

import { assertTypeName } from "../src/_validate.ts";
import type { OffsetChange } from "./offset_store.ts";

/** Throws a TypeError unless `typeNames` is a non-empty array of valid, distinct type names. */
export function assertTypeNames(typeNames: unknown): asserts typeNames is readonly string[] {
  if (!Array.isArray(typeNames) || typeNames.length === 0) {
    throw new TypeError(
      `Invalid typeNames ${String(typeNames)}: expected a non-empty array of type names`,
    );
  }
  for (const typeName of typeNames) assertTypeName(typeName);
  if (new Set(typeNames).size !== typeNames.length) {
    throw new TypeError(`Invalid typeNames ${typeNames.join(", ")}: a type name is repeated`);
  }
}

/**
 * Throws a TypeError or RangeError unless `changes` is a non-empty Map from type names to
 * offset changes whose `from` and `to` are integers ≥ 0.
 */
export function assertTypeChanges(
  changes: unknown,
): asserts changes is ReadonlyMap<string, OffsetChange> {
  if (!(changes instanceof Map) || changes.size === 0) {
    throw new TypeError(
      `Invalid changes ${String(changes)}: expected a non-empty Map of offset changes by type name`,
    );
  }
  for (const [typeName, change] of changes) {
    assertTypeName(typeName);
    for (const key of ["from", "to"] as const) {
      const value = (change as Partial<OffsetChange> | null)?.[key];
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(
          `Invalid offset change of "${typeName}": ${key} ${
            String(value)
          }, expected an integer ≥ 0`,
        );
      }
    }
  }
}
