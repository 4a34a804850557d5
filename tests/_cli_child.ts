// Runs the tool's real entry as a child process on the runtime the test runs on: `deno run -A
// cli/main.ts` under Deno, `bun cli/main.ts` under Bun, `node dist/npm/cli/main.js` (the
// built package, as `npx eventsourced` runs it) under Node.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** A running `eventsourced` child. */
export interface CliChild {
  readonly process: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the child has exited and its output is drained. */
  readonly exited: Promise<number | null>;
}

/** Starts the entry with `args`; `env` adds to the environment it inherits. */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliChild {
  const here = import.meta.url;
  const main = fileURLToPath(new URL(`../cli/main.${here.endsWith(".js") ? "js" : "ts"}`, here));
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  const major = Number(process.versions.node.split(".")[0]);
  const runtimeArgs = g.Deno !== undefined
    ? ["run", "-A", "--quiet", main]
    : g.Bun !== undefined
    ? [main]
    : [...(major < 22 ? ["--experimental-websocket"] : []), main];
  const child = spawn(process.execPath, [...runtimeArgs, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  let out = "";
  let err = "";
  const decoder = new TextDecoder();
  child.stdout!.on("data", (chunk: Uint8Array) => void (out += decoder.decode(chunk)));
  child.stderr!.on("data", (chunk: Uint8Array) => void (err += decoder.decode(chunk)));
  const exited = new Promise<number | null>((resolve) => {
    child.once("close", (code) => resolve(code));
    child.once("error", (error) => {
      err += `\ncannot start ${process.execPath}: ${error.message}`;
      resolve(-1);
    });
  });
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the entry with `args` to its end. */
export async function runCliChild(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startCli(args, env);
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}
