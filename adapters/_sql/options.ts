// The option rules of the SQL adapters, read by `readOptions` (src/_options.ts): an unknown key
// is refused with the known ones named, so a typo never falls back to a default.

import { DEFAULT_MAX_EVENT_BYTES } from "../../src/_validate.ts";
import type { Instrumentation } from "../../src/instrumentation.ts";
import {
  anyValue,
  booleanOption,
  integerAtLeast,
  objectWith,
  type OptionRule,
  type OptionRules,
  readOptions,
  signalOption,
} from "../../src/_options.ts";
import type { NameOptions } from "./names.ts";

/** Names are checked by `sqlNames`, which throws a TypeError naming the option. */
export const nameRules: OptionRules<NameOptions> = {
  schema: anyValue<string | undefined>(undefined),
  tablePrefix: anyValue<string | undefined>(undefined),
};

/** A size in bytes from 1 up to `max`, `defaultValue` when absent. */
export function bytesAtMost(max: number, defaultValue: number): OptionRule<number> {
  return {
    default: Math.min(defaultValue, max),
    valid: (value) =>
      typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= max,
    expected: `an integer from 1 to ${max} (bytes)`,
  };
}

/** The options every SQL event log reads, with their defaults. */
export interface SqlLogSettings {
  readonly schema: string | undefined;
  readonly tablePrefix: string | undefined;
  readonly pollInterval: number;
  readonly pageSize: number;
  readonly maxBatchSize: number;
  readonly notify: boolean;
  readonly notifyInterval: number;
  readonly maxEventBytes: number;
  readonly instrumentation: Instrumentation | undefined;
}

/** The rules of the options of every SQL event log; `maxBytes` bounds `maxEventBytes`. */
export function logRules(maxBytes: number): OptionRules<SqlLogSettings> {
  return {
    ...nameRules,
    pollInterval: integerAtLeast(1, 500),
    pageSize: integerAtLeast(1, 1000),
    maxBatchSize: integerAtLeast(1, 1000),
    notify: booleanOption(true),
    notifyInterval: integerAtLeast(0, 5),
    maxEventBytes: bytesAtMost(maxBytes, DEFAULT_MAX_EVENT_BYTES),
    instrumentation: objectWith<Instrumentation | undefined>(
      undefined,
      [],
      "an Instrumentation (an object of hooks)",
    ),
  };
}

/** The options every SQL snapshot store reads, with their defaults. */
export interface SqlStoreSettings {
  readonly schema: string | undefined;
  readonly tablePrefix: string | undefined;
  readonly keep: number;
  readonly maxSnapshotBytes: number;
}

/** The rules of the options of every SQL snapshot store; `maxBytes` bounds `maxSnapshotBytes`. */
export function snapshotRules(maxBytes: number): OptionRules<SqlStoreSettings> {
  return {
    ...nameRules,
    keep: integerAtLeast(1, 1),
    maxSnapshotBytes: bytesAtMost(maxBytes, DEFAULT_MAX_EVENT_BYTES),
  };
}

/** Splits `options` into the keys of `rules` and the rest (a client's connection options). */
export function splitOptions<Rules extends object>(
  options: object,
  rules: Rules,
): [Record<string, unknown>, Record<string, unknown>] {
  const own: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key in rules) own[key] = value;
    else rest[key] = value;
  }
  return [own, rest];
}

const ACQUIRE_RULES = { wait: booleanOption(false), signal: signalOption() };

/** Reads the options of `OffsetStore.acquire` (`{ wait, signal }`), refusing unknown keys. */
export function readAcquireOptions(
  options: unknown,
): { wait: boolean; signal: AbortSignal | undefined } {
  return readOptions("acquire", options, ACQUIRE_RULES);
}
