// The options of one call that takes only a signal (handleCommand, a log's persist): read on
// hot paths, so unknown keys and a signal that is not an AbortSignal are refused without
// allocating anything for a valid object.

import { assertKnownKeys, optionMessage } from "./_options.ts";
import { quote } from "./_validate.ts";

const KNOWN: readonly string[] = ["signal"];

/**
 * The signal of `options` (`{ signal? }` or `undefined`) of the call `where`; throws a
 * TypeError or RangeError naming what is wrong.
 */
export function callSignal(
  where: string,
  options: { readonly signal?: AbortSignal | undefined } | undefined,
): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Invalid ${where} options ${quote(options)}: expected an object`);
  }
  for (const key in options) {
    if (key !== "signal") assertKnownKeys(where, options, KNOWN);
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RangeError(optionMessage(where, "signal", signal, "an AbortSignal"));
  }
  return signal;
}
