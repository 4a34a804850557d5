// The options of one handleCommand call, read on the hot path: unknown keys and a signal that
// is not an AbortSignal are refused, without allocating anything for a valid object.

import type { HandleCommandOptions } from "./entity_ref.ts";
import { assertKnownKeys, optionMessage } from "./_options.ts";
import { quote } from "./_validate.ts";

const KNOWN: readonly string[] = ["signal"];

/** The signal of `options`; throws a TypeError or RangeError naming what is wrong. */
export function commandSignal(options: HandleCommandOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Invalid handleCommand options ${quote(options)}: expected an object`);
  }
  for (const key in options) {
    if (key !== "signal") assertKnownKeys("handleCommand", options, KNOWN);
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RangeError(optionMessage("handleCommand", "signal", signal, "an AbortSignal"));
  }
  return signal;
}
