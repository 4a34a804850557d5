import { UsageError } from "./_usage_error.ts";

/** What an option takes: nothing (a switch), text, or a whole number of at least `min`. */
export type OptionKind = "switch" | "text" | { readonly min: number };

/** The options a command accepts, by name without the leading `--`. */
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** A command line split into its positional arguments and its options. */
export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly switches: ReadonlySet<string>;
  readonly texts: ReadonlyMap<string, string>;
  readonly numbers: ReadonlyMap<string, number>;
}

/**
 * Splits `args` by `spec`: `--name value`, `--name=value`, and `--` before positionals that
 * start with a dash. Unknown options and malformed numbers are usage errors, so nothing is
 * opened for a line the tool would misread.
 */
export function parseArgs(command: string, args: readonly string[], spec: OptionSpec): ParsedArgs {
  const positionals: string[] = [];
  const switches = new Set<string>();
  const texts = new Map<string, string>();
  const numbers = new Map<string, number>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-") {
        throw new UsageError(`Unknown option "${arg}" for ${command}: see --help`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) {
      throw new UsageError(`Unknown option "--${name}" for ${command}: see --help`);
    }
    if (kind === "switch") {
      if (eq >= 0) throw new UsageError(`Option "--${name}" takes no value`);
      switches.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw new UsageError(`Option "--${name}" needs a value`);
    if (kind === "text") {
      texts.set(name, value);
      continue;
    }
    const number = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number) || number < kind.min) {
      throw new UsageError(
        `Invalid --${name} "${value}": expected a whole number of at least ${kind.min}`,
      );
    }
    numbers.set(name, number);
  }
  return { positionals, switches, texts, numbers };
}

/**
 * The positionals of `parsed` named by `names` (all required); a missing or extra one is a
 * usage error naming the command's usage line.
 */
export function positionals(
  parsed: ParsedArgs,
  usage: string,
  names: readonly string[],
): string[] {
  const given = parsed.positionals;
  if (given.length < names.length) {
    throw new UsageError(`Missing ${names[given.length]}: usage: ${usage}`);
  }
  if (given.length > names.length) {
    throw new UsageError(`Unexpected argument "${given[names.length]}": usage: ${usage}`);
  }
  for (const [i, value] of given.entries()) {
    if (value === "") throw new UsageError(`Invalid ${names[i]} "": it must not be empty`);
  }
  return [...given];
}
