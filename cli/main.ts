#!/usr/bin/env node
/**
 * The entry of the command-line tool: runs {@linkcode runCli} with the process arguments on
 * Deno, Bun or Node and exits with its code; Ctrl-C (SIGINT) or SIGTERM ends a running command
 * such as `tail`. `eventsourced --help` lists the commands.
 *
 * @example Run it
 * ```ts ignore
 * // npm:  npx eventsourced types pglite:./.data/events
 * // Deno: deno run -A jsr:@eventsourced/eventsourced/cli/main types pglite:./.data/events
 * // Bun:  bunx eventsourced events postgres://app@localhost/shop account a-1 --json
 * ```
 *
 * @module
 */

import { runCli } from "./run_cli.ts";

interface ProcessLike {
  argv: string[];
  stdout: { write(text: string, done?: () => void): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  exitCode?: number | string | undefined;
  on(event: string, listener: () => void): unknown;
  exit(code: number): never;
}

interface DenoLike {
  args: string[];
  addSignalListener(signal: "SIGINT" | "SIGTERM", listener: () => void): void;
}

const runtime = globalThis as { Deno?: DenoLike; process?: ProcessLike };
const process = runtime.process!;
const args = runtime.Deno?.args ?? process.argv.slice(2);
const controller = new AbortController();
let interrupted = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  const listener = () => {
    // A second Ctrl-C leaves at once, for a command stuck where the signal cannot reach.
    if (interrupted++ > 0) process.exit(130);
    controller.abort(new Error(`Interrupted by ${signal}`));
  };
  // Deno's `process` does not deliver signals to listeners: its own API does.
  if (runtime.Deno !== undefined) runtime.Deno.addSignalListener(signal, listener);
  else process.on(signal, listener);
}

const code = await runCli(args, {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  env: process.env,
});
// Exit once stdout is flushed: a driver's idle timer must not keep a finished command alive.
process.stdout.write("", () => process.exit(code));
