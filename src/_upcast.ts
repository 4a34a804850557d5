// The versions a codec reads: its current version and, per older version k, the step that turns
// a decoded version-k value into a version-(k+1) one. The JSON and protobuf codecs share it, so
// both check their options and refuse a version they cannot read with the same messages.

import { quote } from "./_validate.ts";
import { optionMessage } from "./_options.ts";
import { assertVersion } from "./event_metadata.ts";

/** The versions one side (events or states) of a codec reads. */
export interface VersionChain<Step> {
  /** What the chain decodes, for error messages. */
  readonly what: "event" | "state";
  /** The option that holds the steps, for error messages: `upcast`, `stateVersions`. */
  readonly option: string;
  /** The version the codec writes. */
  readonly current: number;
  /** `steps[k]` upcasts from version k (1 ≤ k < current); a hole where none was given. */
  readonly steps: readonly (Step | undefined)[];
}

/**
 * Reads the version option `versionKey` and the record of steps under `option` (keys 1 to
 * version − 1, each value passing `isStep`) of the options `where` names, copying the steps so
 * later changes to the record do not reach the codec. Throws a RangeError or TypeError naming
 * the bad key or value.
 */
export function readChain<Step>(
  where: string,
  what: "event" | "state",
  versionKey: string,
  version: unknown,
  option: string,
  given: unknown,
  isStep: (value: unknown) => value is Step,
  expected: string,
): VersionChain<Step> {
  const current = version ?? 1;
  assertVersion(current, `${where} option ${versionKey}`);
  const steps: (Step | undefined)[] = [];
  if (given !== undefined) {
    for (const key of Object.keys(given as object)) {
      const k = Number(key);
      if (!(Number.isInteger(k) && k >= 1 && k < current && String(k) === key)) {
        throw new RangeError(
          `Invalid ${where} option ${option} key ${quote(key)}: expected ${
            current === 1
              ? `none, since ${versionKey} is 1 and no version is older`
              : `an integer from 1 to ${current - 1} (${versionKey} − 1)`
          }`,
        );
      }
      const step = (given as Record<string, unknown>)[key];
      if (!isStep(step)) {
        throw new TypeError(optionMessage(where, `${option}[${key}]`, step, expected));
      }
      steps[k] = step;
    }
  }
  return { what, option, current, steps };
}

/** Whether `value` is a record of options: a non-null object that is not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Throws unless the chain can read `version`: an integer from 1 to the current version whose
 * first step is given (later steps are checked as they are reached).
 */
export function assertReadable(chain: VersionChain<unknown>, version: number): void {
  const { what, current } = chain;
  if (!Number.isInteger(version) || version < 1) {
    throw new RangeError(
      `Cannot decode ${what} of version ${
        quote(version)
      }: expected an integer from 1 to ${current}`,
    );
  }
  if (version > current) {
    throw new RangeError(
      `Cannot decode ${what} of version ${version}: this codec reads versions 1 to ${current} ` +
        `(the ${what} was written by newer code)`,
    );
  }
  if (version < current && chain.steps[version] === undefined) throw missingStep(chain, version);
}

/** The error for a version-`k` value that the chain has no step from. */
export function missingStep(chain: VersionChain<unknown>, k: number): Error {
  return new RangeError(
    `Cannot upcast ${chain.what} from version ${k} to ${k + 1}: no ${chain.option}[${k}] is ` +
      `given, so this codec cannot read ${chain.what}s of version ${k}`,
  );
}

/** Wraps what a step threw into an Error naming the step. */
export function stepFailed(chain: VersionChain<unknown>, k: number, cause: unknown): Error {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `Cannot upcast ${chain.what} from version ${k} to ${
      k + 1
    }: ${chain.option}[${k}] threw: ${why}`,
    { cause },
  );
}
