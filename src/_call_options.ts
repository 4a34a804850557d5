// The options of one call on a hot path (handleCommand, a log's persist, a store's save): read
// so that unknown keys and a signal that is not an AbortSignal are refused without allocating
// anything for a valid object.

import { assertKnownKeys, optionMessage } from "./_options.ts";
import { quote } from "./_validate.ts";

const SIGNAL_ONLY: readonly string[] = ["signal"];

/** The keys of `handleCommand`'s options. */
export const COMMAND_OPTION_KEYS: readonly string[] = ["signal", "metadata"];

/**
 * The signal of `options` (`{ signal? }` or `undefined`) of the call `where`; throws a
 * TypeError or RangeError naming what is wrong.
 */
export function callSignal(
  where: string,
  options: { readonly signal?: AbortSignal | undefined } | undefined,
): AbortSignal | undefined {
  if (options === undefined) return undefined;
  return optionsSignal(where, options, SIGNAL_ONLY);
}

/**
 * The signal of `options`, an object whose keys must be among `known`; throws a TypeError or
 * RangeError naming what is wrong.
 */
export function optionsSignal(
  where: string,
  options: { readonly signal?: AbortSignal | undefined },
  known: readonly string[],
): AbortSignal | undefined {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Invalid ${where} options ${quote(options)}: expected an object`);
  }
  for (const key in options) {
    if (!known.includes(key)) assertKnownKeys(where, options, known);
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RangeError(optionMessage(where, "signal", signal, "an AbortSignal"));
  }
  return signal;
}
