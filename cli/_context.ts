import type { StoreAdmin } from "../admin/store_admin.ts";
import type { OptionKind, ParsedArgs } from "./_args.ts";

/**
 * What a store is opened for: `"use"` needs its schema; `"inspect"` does not; only `"setup"`
 * may create a missing PGlite data directory.
 */
export type OpenPurpose = "use" | "inspect" | "setup";

/** What a command gets from `runCli`: its arguments, its output and its stores. */
export interface CommandContext {
  /** The command's arguments and options. */
  readonly args: ParsedArgs;
  /** `--json`: print JSON on stdout, messages on stderr only. */
  readonly json: boolean;
  /** Ends the command (Ctrl-C, or the caller's signal). */
  readonly signal: AbortSignal;
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr (progress, notes). */
  err(line: string): void;
  /**
   * Opens the store at `url`, closed when the command ends. For `"use"` it fails when the
   * store has no schema, naming `eventsourced setup`. Its names are those of the options
   * `--schema` … or, with `namesFrom: "to-"`, of `--to-schema` … (the target of a copy).
   */
  open(url: string, purpose: OpenPurpose, namesFrom?: "" | "to-"): Promise<StoreAdmin>;
}

/** An option of a command: what it takes, a line of help, and whether it must be given. */
export interface OptionHelp {
  readonly kind: OptionKind;
  readonly help: string;
  /** The placeholder of its value in help (default `VALUE`, or `N` for a number). */
  readonly value?: string;
  readonly required?: boolean;
  /** Whether the usage line names it; default `true` (the help lists every option). */
  readonly inUsage?: boolean;
}

/** One command of the tool: its usage, help and options, and what it does. */
export interface Command {
  /** The command's name, as typed. */
  readonly name: string;
  /** The positional arguments, in order, as the usage line names them. */
  readonly positionals: readonly string[];
  /** The options beyond the global ones, with a line of help each. */
  readonly options: Readonly<Record<string, OptionHelp>>;
  /** One line for the command list. */
  readonly summary: string;
  /** Further lines of `--help`. */
  readonly details: readonly string[];
  /** Runs the command with the values of its positionals; resolves to the exit code. */
  run(context: CommandContext, values: readonly string[]): Promise<number>;
}
