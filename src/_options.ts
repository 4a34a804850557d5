// One way to read an options object of the public API: refuse keys it does not know (a typo
// must not fall back to a default silently), fill in the defaults, then check each value. Every
// message has one shape: `Invalid <where> option <key> <value>: expected <what>`.

import { HIDDEN, redactUrl } from "./_redact.ts";
import { quote } from "./_validate.ts";

/** How one option is read: its default and what a valid value is. */
export interface OptionRule<Value> {
  /** The value when the option is absent or `undefined`. */
  readonly default: Value;
  /** Whether a given (not `undefined`) value is valid. */
  readonly valid: (value: unknown) => boolean;
  /** What a valid value is, for the error message: "a positive integer". */
  readonly expected: string;
  /**
   * Whether the value is a secret that messages must not show: `true` prints `(hidden)`,
   * `"url"` prints the URL with its password and secret query parameters hidden.
   */
  readonly secret?: boolean | "url";
}

/** The rules of every key of an options type. */
export type OptionRules<Options> = { readonly [Key in keyof Options]-?: OptionRule<Options[Key]> };

/**
 * Reads `given` (an options object or `undefined`) by `rules`: throws a TypeError for a
 * non-object or an unknown key (naming the known ones), a RangeError for an invalid value,
 * and returns every option with its default filled in.
 */
export function readOptions<Options>(
  where: string,
  given: unknown,
  rules: OptionRules<Options>,
): Options {
  if (given !== undefined && (given === null || typeof given !== "object")) {
    // A URL given in place of the options object is shown without its credentials.
    const shown = typeof given === "string" ? redactUrl(given) : given;
    throw new TypeError(`Invalid ${where} options ${quote(shown)}: expected an object`);
  }
  const source = (given ?? {}) as Record<string, unknown>;
  assertKnownKeys(where, source, Object.keys(rules));
  const result = {} as Record<string, unknown>;
  for (const [key, rule] of Object.entries(rules) as [string, OptionRule<unknown>][]) {
    const value = source[key];
    if (value === undefined) {
      result[key] = rule.default;
    } else if (rule.valid(value)) {
      result[key] = value;
    } else {
      throw new RangeError(optionMessage(where, key, value, rule.expected, rule.secret));
    }
  }
  return result as Options;
}

/** Throws a TypeError naming the first key of `given` that is not in `known`. */
export function assertKnownKeys(
  where: string,
  given: object,
  known: readonly string[],
): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Unknown ${where} option ${quote(key)}: known options are ${known.join(", ")}`,
      );
    }
  }
}

/** The message for an invalid option value, in the one shape every option check uses. */
export function optionMessage(
  where: string,
  key: string,
  value: unknown,
  expected: string,
  secret?: boolean | "url",
): string {
  return `Invalid ${where} option ${key} ${describeValue(value, secret)}: expected ${expected}`;
}

function describeValue(value: unknown, secret?: boolean | "url"): string {
  if (secret === true) return HIDDEN;
  if (secret === "url") return typeof value === "string" ? quote(redactUrl(value)) : HIDDEN;
  if (typeof value === "function") return "(a function)";
  if (Array.isArray(value)) return "(an array)";
  if (value !== null && typeof value === "object") {
    return `(${value.constructor?.name ?? "an object"})`;
  }
  return quote(value);
}

/** `rule` for an option whose value is a secret (`true`) or a URL that may hold one. */
export function secretOption<Value>(
  rule: OptionRule<Value>,
  secret: true | "url" = true,
): OptionRule<Value> {
  return { ...rule, secret };
}

/** A rule for an option that is any value (checked elsewhere, or not at all). */
export function anyValue<Value>(defaultValue: Value): OptionRule<Value> {
  return { default: defaultValue, valid: () => true, expected: "any value" };
}

/** A rule for an integer option of at least `min`. */
export function integerAtLeast<Value extends number | undefined>(
  min: number,
  defaultValue: Value,
): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) => typeof value === "number" && Number.isSafeInteger(value) && value >= min,
    expected: min === 1 ? "a positive integer" : `an integer ≥ ${min}`,
  };
}

/** A rule for a finite number option of at least `min`. */
export function numberAtLeast<Value extends number | undefined>(
  min: number,
  defaultValue: Value,
): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) => typeof value === "number" && Number.isFinite(value) && value >= min,
    expected: `a finite number ≥ ${min}`,
  };
}

/** A rule for a boolean option. */
export function booleanOption<Value extends boolean | undefined>(
  defaultValue: Value,
): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) => typeof value === "boolean",
    expected: "a boolean",
  };
}

/** A rule for a string option, optionally matching `pattern`. */
export function stringOption<Value extends string | undefined>(
  defaultValue: Value,
  pattern?: RegExp,
  expected = "a string",
): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) => typeof value === "string" && (pattern === undefined || pattern.test(value)),
    expected,
  };
}

/** A rule for a function option. */
export function functionOption<Value extends ((...args: never[]) => unknown) | undefined>(
  defaultValue: Value,
): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) => typeof value === "function",
    expected: "a function",
  };
}

/** A rule for an `AbortSignal` option. */
export function signalOption(): OptionRule<AbortSignal | undefined> {
  return {
    default: undefined,
    valid: (value) => value instanceof AbortSignal,
    expected: "an AbortSignal",
  };
}

/** A rule for an option that is one of `values`. */
export function oneOf<Value>(values: readonly Value[], defaultValue: Value): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) => values.includes(value as Value),
    expected: `one of ${values.map((value) => quote(value)).join(", ")}`,
  };
}

/** A rule for an object option with the given methods (a port such as an `EventLog`). */
export function objectWith<Value>(
  defaultValue: Value,
  methods: readonly string[],
  expected: string,
): OptionRule<Value> {
  return {
    default: defaultValue,
    valid: (value) =>
      value !== null && typeof value === "object" &&
      methods.every((method) => typeof (value as Record<string, unknown>)[method] === "function"),
    expected,
  };
}
