// Command-line flags for the bench scripts, from process.argv on Deno, Bun and Node alike.

import process from "node:process";

/** Flags as `--name value` pairs (a flag without a value is `"true"`). */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument ${JSON.stringify(arg)}`);
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(name, inline);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) flags.set(name, argv[++i]!);
    else flags.set(name, "true");
  }
  return flags;
}

/** A positive integer flag, or `fallback`. */
export function intFlag(flags: Map<string, string>, name: string, fallback: number): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${name} expects a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}
