// Child processes of bench/cluster.ts: a script of this folder run on the bench's own runtime
// (`deno run -A x.ts`, `bun x.ts`, or `node x.js` from the compiled copy in dist/npm, with
// `--experimental-websocket` on Node 20) with one JSON argument. A child prints `ready` when
// it serves and stops when it reads `stop` on stdin; `kill()` is a SIGKILL, a crash.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** A child started by {@linkcode startChild}. */
export interface BenchChild {
  readonly process: ChildProcess;
  /** Resolves with the rest of the child's `ready` line; rejects if it exits first. */
  readonly ready: Promise<string>;
  /** The last stdout line that starts with `word`, without it; `undefined` before one. */
  last(word: string): string | undefined;
  /** Asks the child to stop (`stop` on stdin) and waits for its exit, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Ends the child with SIGKILL and waits for its exit. */
  kill(): Promise<void>;
}

function command(script: string): { command: string; args: string[] } {
  const compiled = import.meta.url.endsWith(".js");
  const path = fileURLToPath(new URL(`./${script}${compiled ? ".js" : ".ts"}`, import.meta.url));
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return { command: process.execPath, args: ["run", "-A", path] };
  if (g.Bun !== undefined) return { command: process.execPath, args: [path] };
  const major = Number(process.versions.node.split(".")[0]);
  return {
    command: process.execPath,
    args: [...(major < 22 ? ["--experimental-websocket"] : []), path],
  };
}

/** Starts `script` (a file of this folder, without extension) with `config` as JSON. */
export function startChild(script: string, config: unknown): BenchChild {
  const { command: cmd, args } = command(script);
  const child = spawn(cmd, [...args, JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const lines = new Map<string, string>();
  const ready = new Promise<string>((resolve, reject) => {
    let pending = "";
    child.stdout!.on("data", (chunk: Uint8Array) => {
      pending += new TextDecoder().decode(chunk);
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        const space = line.indexOf(" ");
        const word = space < 0 ? line : line.slice(0, space);
        const rest = space < 0 ? "" : line.slice(space + 1);
        lines.set(word, rest);
        if (word === "ready") resolve(rest);
      }
    });
    exited.then(() => reject(new Error(`${script} exited before it was ready`)));
  });
  ready.catch(() => {});
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  return {
    process: child,
    ready,
    last: (word) => lines.get(word),
    kill,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.write("stop\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In a child: resolves when the parent writes `stop` (or closes stdin). */
export function stopRequested(): Promise<void> {
  return new Promise((resolve) => {
    let text = "";
    process.stdin.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      if (text.includes("stop")) resolve();
    });
    process.stdin.on("end", () => resolve());
  });
}
