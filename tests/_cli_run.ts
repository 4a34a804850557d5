// Runs the command-line tool in-process through runCli, capturing what it prints.

import { type CliIo, runCli } from "../cli/mod.ts";

/** What one command line printed and its exit code. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `args` in-process; `io` may add a signal or an environment. */
export async function cli(args: readonly string[], io: CliIo = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    ...io,
    stdout: { write: (text) => void (stdout += text) },
    stderr: { write: (text) => void (stderr += text) },
  });
  return { code, stdout, stderr };
}

/** Runs `args` with `--json` and parses stdout, failing with stderr when the command failed. */
export async function cliJson(args: readonly string[], io: CliIo = {}): Promise<unknown> {
  const result = await cli([...args, "--json"], io);
  if (result.code !== 0) {
    throw new Error(`eventsourced ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout);
}
