// The options of a MultiTypeProjection, read like a Projection's (the same rules and defaults),
// with `types` instead of `typeName` and `binarize`: every type name checked, each with a codec,
// and an offset store that keeps offsets per type.

import type { PersistedEvent } from "../src/event_log.ts";
import { EventReader } from "../src/event_reader.ts";
import type { EventDecoder } from "../src/_decode.ts";
import { assertTypeName } from "../src/_validate.ts";
import { objectWith, type OptionRules, readOptions } from "../src/_options.ts";
import { assertProjectionName } from "./_name_locks.ts";
import { checkCommon, COMMON_RULES, type CommonOptions, type LoopSettings } from "./_settings.ts";
import type { MultiTypeEnvelope, MultiTypeProjectionOptions } from "./multi_type_options.ts";

const WHERE = "MultiTypeProjection";

/** A multi-type projection's checked options, defaults filled in. */
export interface TypesSettings<Events, Tx> extends LoopSettings<MultiTypeEnvelope<Events>, Tx> {
  readonly typeNames: readonly (keyof Events & string)[];
}

/** Checks the name and the options; throws a TypeError or RangeError naming what is wrong. */
export function readTypesSettings<Events, Tx>(
  name: unknown,
  given: unknown,
): TypesSettings<Events, Tx> {
  assertProjectionName(name);
  const rules = {
    types: objectWith(undefined, [], "an object of codecs by type name"),
    ...COMMON_RULES,
  };
  const options = readOptions<MultiTypeProjectionOptions<Events, Tx>>(
    WHERE,
    given,
    rules as unknown as OptionRules<MultiTypeProjectionOptions<Events, Tx>>,
  );
  const types = options.types as Record<string, unknown> | undefined;
  if (types === undefined) {
    throw new TypeError(
      `Missing ${WHERE} option types: expected an object of codecs by type name`,
    );
  }
  const readers = new Map<string, EventReader<unknown>>();
  for (const [typeName, binarize] of Object.entries(types)) {
    assertTypeName(typeName);
    if (
      binarize === null || typeof binarize !== "object" ||
      typeof (binarize as { eventFromBytes?: unknown }).eventFromBytes !== "function"
    ) {
      throw new TypeError(
        `Invalid ${WHERE} option types.${typeName}: expected a Binarize (eventFromBytes)`,
      );
    }
    readers.set(
      typeName,
      new EventReader(typeName, {
        eventLog: options.eventLog,
        binarize: binarize as EventDecoder<unknown>,
      }),
    );
  }
  if (readers.size === 0) {
    throw new TypeError(`Invalid ${WHERE} option types: expected at least one type name`);
  }
  const common = checkCommon<MultiTypeEnvelope<Events>, Tx>(
    WHERE,
    name,
    options as CommonOptions,
    ["eventLog", "offsetStore"],
  );
  const store = common.store as { loadTypes?: unknown };
  if (typeof store.loadTypes !== "function") {
    throw new TypeError(
      `Invalid ${WHERE} option offsetStore: expected an OffsetStore that keeps offsets per ` +
        `type (loadTypes and commitTypes), as MemoryOffsetStore, PostgresOffsetStore and ` +
        `PgliteOffsetStore do`,
    );
  }
  const decode = (event: PersistedEvent): MultiTypeEnvelope<Events> => {
    const reader = readers.get(event.typeName);
    if (reader === undefined) {
      throw new TypeError(
        `Projection "${name}" read an event of type "${event.typeName}", which is not one of ` +
          `its types`,
      );
    }
    return { ...reader.decode(event), typeName: event.typeName } as MultiTypeEnvelope<Events>;
  };
  return { ...common, typeNames: [...readers.keys()] as (keyof Events & string)[], decode };
}
