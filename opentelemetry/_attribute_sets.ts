// Attribute sets made once per distinct set of values and shared after, so that a metric's
// records do not build a new attribute object each time.

import type { Attributes } from "@opentelemetry/api";

/** The attribute set of `keys` with the values given, made once per distinct values. */
export function attributeSets(
  ...keys: readonly string[]
): (...values: readonly string[]) => Attributes {
  const sets = new Map<string, Attributes>();
  return (...values) => {
    const id = values.join("\u0000");
    let attributes = sets.get(id);
    if (attributes === undefined) {
      attributes = Object.freeze(Object.fromEntries(keys.map((key, i) => [key, values[i]!])));
      sets.set(id, attributes);
    }
    return attributes;
  };
}
