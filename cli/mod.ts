/**
 * The command-line tool of eventsourced, as functions: {@linkcode runCli} runs a command line
 * (what `npx eventsourced …` and `deno run -A …/cli/main` do), {@linkcode openStore} opens a
 * store by URL as the tool does. Importing this module has no side effects; `./cli/main` is
 * the entry that reads the process arguments.
 *
 * @example Run a command in-process
 * ```ts
 * import { runCli } from "@eventsourced/eventsourced/cli";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * assert.equal(await runCli(["types", "--help"], { stdout: { write: (t) => void (out += t) } }), 0);
 * assert.match(out, /Usage: eventsourced types URL/);
 * ```
 *
 * @module
 */

export type { CliIo } from "./run_cli.ts";
export { runCli } from "./run_cli.ts";
export type { OpenedStore } from "./open_store.ts";
export type { OpenStoreOptions } from "./open_store_options.ts";
export { openStore } from "./open_store.ts";
