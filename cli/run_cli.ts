/**
 * The command-line tool as a function: {@linkcode runCli} runs one command line and resolves
 * to its exit code, printing through the given streams.
 *
 * @module
 */

import { parseArgs, type ParsedArgs, positionals } from "./_args.ts";
import { COMMANDS, GLOBAL_OPTIONS } from "./_commands.ts";
import type { Command, CommandContext, OpenPurpose } from "./_context.ts";
import { failureOf } from "./_failure.ts";
import { commandHelp, globalHelp, usageOf } from "./_help.ts";
import { secretsOf } from "./_store_url.ts";
import { UsageError } from "./_usage_error.ts";
import { type OpenedStore, openStore } from "./open_store.ts";
import type { OpenStoreOptions } from "./open_store_options.ts";

/**
 * Where {@linkcode runCli} prints and what ends it.
 *
 * @example Capture the output
 * ```ts
 * import { type CliIo, runCli } from "@eventsourced/eventsourced/cli";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const io: CliIo = { stdout: { write: (text) => void (out += text) } };
 * assert.equal(await runCli(["--help"], io), 0);
 * assert.match(out, /Commands:/);
 * ```
 */
export interface CliIo {
  /** Where results go; default `console.log`. */
  stdout?: { write(text: string): unknown } | undefined;
  /** Where messages and progress go; default `console.error`. */
  stderr?: { write(text: string): unknown } | undefined;
  /** Ends a running command (`tail` ends with exit code 0); Ctrl-C in `cli/main.ts`. */
  signal?: AbortSignal | undefined;
  /** Environment: `EVENTSOURCED_TIMEOUT` is the default of `--timeout`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

const lineWriter = (
  stream: { write(text: string): unknown } | undefined,
  fallback: (line: string) => void,
) => stream === undefined ? fallback : (line: string) => void stream.write(`${line}\n`);

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command !== undefined) return command;
  const near = COMMANDS.find((c) => c.name.startsWith(name.slice(0, 3)));
  const hint = near === undefined ? "" : ` (did you mean "${near.name}"?)`;
  throw new UsageError(`Unknown command "${name}"${hint}: see eventsourced --help`);
}

function storeOptions(args: ParsedArgs, prefix: string, timeout: number): OpenStoreOptions {
  const text = (name: string) => args.texts.get(`${prefix}${name}`);
  return {
    schema: text("schema"),
    tablePrefix: text("table-prefix"),
    stream: text("stream"),
    subjectPrefix: text("subject-prefix"),
    snapshotBucket: text("snapshot-bucket"),
    offsetBucket: text("offset-bucket"),
    timeout,
  };
}

function defaultTimeout(env: CliIo["env"]): number {
  const given = env?.EVENTSOURCED_TIMEOUT;
  if (given === undefined || given === "") return 5_000;
  const timeout = /^\d+$/.test(given) ? Number(given) : NaN;
  if (!Number.isSafeInteger(timeout) || timeout < 1) {
    throw new UsageError(`Invalid EVENTSOURCED_TIMEOUT "${given}": expected ms >= 1`);
  }
  return timeout;
}

/**
 * Runs the command line `args` (without the program name) and resolves to its exit code: 0
 * done, 1 failed, 2 usage error (nothing was opened). Results go to `io.stdout` (JSON with
 * `--json`), messages and progress to `io.stderr`. Never rejects.
 *
 * @example List the commands
 * ```ts
 * import { runCli } from "@eventsourced/eventsourced/cli";
 * import assert from "node:assert/strict";
 *
 * let help = "";
 * const code = await runCli(["--help"], { stdout: { write: (text) => void (help += text) } });
 * assert.equal(code, 0);
 * assert.match(help, /tail/);
 * ```
 *
 * @example A usage error
 * ```ts
 * import { runCli } from "@eventsourced/eventsourced/cli";
 * import assert from "node:assert/strict";
 *
 * let errors = "";
 * const code = await runCli(["typo"], { stderr: { write: (text) => void (errors += text) } });
 * assert.equal(code, 2);
 * assert.match(errors, /Unknown command "typo"/);
 * ```
 */
export async function runCli(args: readonly string[], io: CliIo = {}): Promise<number> {
  const out = lineWriter(io.stdout, (line) => console.log(line));
  const err = lineWriter(io.stderr, (line) => console.error(line));
  const opened: OpenedStore[] = [];
  // The credentials of every URL on the line, wherever it stands (a URL typed in place of the
  // command or one too many is echoed by the usage errors), are scrubbed from all output.
  const secrets = args.flatMap((arg) => typeof arg === "string" ? secretsOf(arg) : []);
  try {
    const [name, ...rest] = args;
    if (name === undefined) {
      globalHelp().forEach(err);
      return 2;
    }
    if (name === "--help" || name === "-h" || name === "help") {
      const about = rest[0] === undefined ? undefined : findCommand(rest[0]);
      (about === undefined ? globalHelp() : commandHelp(about)).forEach(out);
      return 0;
    }
    const command = findCommand(name);
    const parsed = parseArgs(command.name, rest, {
      ...kinds(GLOBAL_OPTIONS),
      ...kinds(command.options),
    });
    if (parsed.switches.has("help")) {
      commandHelp(command).forEach(out);
      return 0;
    }
    const values = positionals(parsed, usageOf(command), command.positionals);
    const timeout = parsed.numbers.get("timeout") ?? defaultTimeout(io.env);
    const signal = io.signal ?? new AbortController().signal;
    const context: CommandContext = {
      args: parsed,
      json: parsed.switches.has("json"),
      signal,
      out,
      err,
      open: async (url: string, purpose: OpenPurpose, namesFrom: "" | "to-" = "") => {
        const store = await openStore(url, {
          ...storeOptions(parsed, namesFrom, timeout),
          create: purpose === "setup",
        });
        opened.push(store);
        if (purpose === "use") await requireSchema(store, err);
        return store.admin;
      },
    };
    return await command.run(context, values);
  } catch (error) {
    const failure = failureOf(error, secrets);
    err(failure.message);
    return failure.exitCode;
  } finally {
    for (const store of opened.reverse()) {
      await store.close().catch((error) => err(failureOf(error, secrets).message));
    }
  }
}

function kinds(options: Command["options"]) {
  return Object.fromEntries(Object.entries(options).map(([name, { kind }]) => [name, kind]));
}

async function requireSchema(store: OpenedStore, err: (line: string) => void): Promise<void> {
  const { installed, latest } = await store.admin.schema();
  if (installed === null) {
    throw new Error(
      `The store at ${store.url} has no schema: run \`eventsourced setup ${store.url}\` first`,
    );
  }
  if (installed < latest) {
    err(`Note: schema version ${installed} of ${latest}: \`eventsourced setup\` upgrades it`);
  }
}
