// A projection worker in its own process, for the exactly-once tests across SIGKILL: started
// with the runtime running the test, told its config in the environment, read line by line from
// its stdout, and killed with SIGKILL. Its stdin stays open, so it exits when the test does.

import { type ChildProcess, spawn as spawnProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** A worker process. */
export interface Worker {
  /** Resolves with the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

/**
 * Starts `tests/<module>` (`.ts` on Deno and Bun, the built `.js` on Node) with the runtime
 * running the test, its config in the environment variable PROJECTION_WORKER.
 */
export function startWorker(module: string, config: object): Worker {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const file = fileURLToPath(new URL(`./${module}${ext}`, import.meta.url));
  const args = "Deno" in globalThis ? ["run", "-A", file] : [file];
  const child: ChildProcess = spawnProcess(process.execPath, args, {
    env: { ...process.env, PROJECTION_WORKER: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code))
  );
  let buffer = "";
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  child.stdout!.on("data", (chunk: Uint8Array) => {
    buffer += new TextDecoder().decode(chunk);
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    lines.push(...parts);
    for (const watch of watchers) watch();
  });
  return {
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        let checked = 0;
        const watch = () => {
          for (; checked < lines.length; checked++) {
            const match = lines[checked]!.match(pattern);
            if (match) {
              watchers.delete(watch);
              return resolve(match);
            }
          }
        };
        watchers.add(watch);
        watch();
        void exited.then((code) => {
          if (watchers.delete(watch)) {
            reject(new Error(`The worker exited (${code}) before printing ${pattern}`));
          }
        });
      });
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
