// Starts a helper script of this folder as a child process on the runtime the test runs on:
// `deno run -A x.ts` under Deno, `bun x.ts` under Bun, `node x.js` (the compiled copy beside
// this file in dist/npm) under Node, with `--experimental-websocket` on Node 20. The child
// prints one record per line on stdout; the parent collects them as they arrive.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** A child started by {@linkcode startChild}. */
export interface Child {
  readonly process: ChildProcess;
  /** Every complete stdout line so far, split at spaces. */
  readonly lines: string[][];
  /** stderr so far, for failure messages. */
  stderr(): string;
  /** Resolves when the child has exited and its stdout is drained. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Sends SIGKILL (if it still runs) and waits for the exit. */
  kill(): Promise<void>;
  /** Writes a line to the child's stdin. */
  tell(line: string): void;
}

function runtimeCommand(script: string): { command: string; args: string[] } {
  const here = import.meta.url;
  const compiled = here.endsWith(".js");
  const path = fileURLToPath(new URL(`./${script}${compiled ? ".js" : ".ts"}`, here));
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) {
    return { command: process.execPath, args: ["run", "-A", "--quiet", path] };
  }
  if (g.Bun !== undefined) return { command: process.execPath, args: [path] };
  const major = Number(process.versions.node.split(".")[0]);
  return {
    command: process.execPath,
    args: [...(major < 22 ? ["--experimental-websocket"] : []), path],
  };
}

/** Runs `script` (a file name in this folder, without extension) with one JSON argument. */
export function startChild(script: string, config: unknown): Child {
  const { command, args } = runtimeCommand(script);
  const child = spawn(command, [...args, JSON.stringify(config)], {
    cwd: process.cwd(),
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const lines: string[][] = [];
  let pending = "";
  let errors = "";
  const decoder = new TextDecoder();
  child.stdout!.on("data", (chunk: Uint8Array) => {
    pending += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== "") lines.push(line.split(" "));
    }
  });
  child.stderr!.on("data", (chunk: Uint8Array) => {
    if (errors.length < 20_000) errors += decoder.decode(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => {
      errors += `\ncannot start ${command}: ${error.message}`;
      resolve({ code: -1, signal: null });
    });
  });
  return {
    process: child,
    lines,
    stderr: () => errors,
    exited,
    tell(line) {
      child.stdin!.write(`${line}\n`);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
