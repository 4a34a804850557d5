// Starts a throwaway PostgreSQL server for integration tests and benchmarks: `initdb` into a
// temporary folder, `postgres` on a free loopback port, removed again by `stop()`. When
// `PG_URL` is set, that server is used instead and nothing is started. Runs on Deno, Bun and
// Node through node: modules only. As root, the server runs as the `postgres` OS user (the
// server refuses to run as root), through `runuser`.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "./free_port.ts";

/** A running server (or the one named by `PG_URL`). */
export interface PostgresServer {
  /** A connection URL for the superuser, database `postgres`. */
  readonly url: string;
  /** Stops the server and removes its data folder; does nothing for `PG_URL`. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startPostgres}. */
export interface StartPostgresOptions {
  /** Server `fsync` setting; default `true` (what a real deployment does). */
  fsync?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

const SEARCH = ["/usr/lib/postgresql", "/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin"];

function findBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const candidates: string[] = [];
  if (existsSync(SEARCH[0]!)) {
    const versions = readdirSync(SEARCH[0]!).filter((v) => /^\d+$/.test(v));
    versions.sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(SEARCH[0]!, v, "bin")));
  }
  candidates.push(...SEARCH.slice(1));
  for (const dir of candidates) {
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  }
  throw new Error(
    `Cannot start PostgreSQL for the tests: no initdb and postgres found in ${
      candidates.join(", ")
    } (install the distribution's postgresql package, set PG_BIN, or set PG_URL)`,
  );
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

function asServerUser(command: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

// Blocks until `pid` has exited (or `ms` passed): used only when the process is ending.
function waitForExit(pid: number, ms: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    Atomics.wait(sleeper, 0, 0, 20);
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/**
 * Starts a PostgreSQL server on a free loopback port with a temporary data folder, or returns
 * the server named by `PG_URL` when that is set.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const given = process.env.PG_URL;
  if (given) return { url: given, stop: () => Promise.resolve() };

  const bin = findBinDir();
  const root = mkdtempSync(join(tmpdir(), "eventsourced-pg-"));
  const data = join(root, "data");
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  let child: ChildProcess | undefined;
  try {
    if (isRoot) {
      const { uid, gid } = userIds("postgres");
      chownSync(root, uid, gid);
    }
    const [initdb, initArgs] = asServerUser(join(bin, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    try {
      execFileSync(initdb, initArgs, { stdio: "pipe", cwd: root });
    } catch (error) {
      const stderr = (error as { stderr?: Uint8Array }).stderr;
      throw new Error(
        `initdb failed: ${stderr ? new TextDecoder().decode(stderr) : String(error)}`,
        { cause: error },
      );
    }

    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      port: String(port),
      unix_socket_directories: root,
      fsync: options.fsync === false ? "off" : "on",
      max_connections: "200",
      shared_buffers: "128MB",
      ...options.settings,
    };
    const args = ["-D", data, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
    const [command, commandArgs] = asServerUser(join(bin, "postgres"), args);
    child = spawn(command, commandArgs, { stdio: ["ignore", "ignore", "pipe"], cwd: root });
    const started = child;
    await new Promise<void>((resolve, reject) => {
      let log = "";
      const timer = setTimeout(
        () => reject(new Error(`PostgreSQL did not start within 30 s:\n${log}`)),
        30_000,
      );
      started.stderr!.on("data", (chunk: Uint8Array) => {
        log += new TextDecoder().decode(chunk);
        if (log.includes("ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL exited with code ${code} while starting:\n${log}`));
      });
    });
    // Keep draining the log so the server never blocks on a full pipe.
    started.stderr!.on("data", () => {});

    const postmasterPid = (): number | undefined => {
      try {
        return Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      } catch {
        return undefined;
      }
    };
    // If the process ends without stop() (an uncaught error, Ctrl-C, a test runner's timeout
    // sending SIGTERM), shut the server down at once and remove its folder, so nothing is left
    // running; then let the signal do what it would have done.
    const stopNow = () => {
      const pid = postmasterPid();
      if (pid) {
        try {
          process.kill(pid, "SIGQUIT");
        } catch { /* already gone */ }
        waitForExit(pid, 5_000);
      }
      removeRoot();
    };
    const onSignal = (signal: NodeJS.Signals) => {
      unregister();
      stopNow();
      process.kill(process.pid, signal);
    };
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    const unregister = () => {
      process.off("exit", stopNow);
      for (const signal of signals) process.off(signal, onSignal);
    };
    process.on("exit", stopNow);
    for (const signal of signals) process.on(signal, onSignal);

    let stopped: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: () =>
        stopped ??= (async () => {
          unregister();
          const exited = started.exitCode !== null || started.signalCode !== null
            ? Promise.resolve()
            : new Promise<void>((resolve) => started.once("exit", () => resolve()));
          const pid = postmasterPid();
          // SIGINT is the server's "fast" shutdown: end sessions, checkpoint, exit.
          if (pid) process.kill(pid, "SIGINT");
          else started.kill("SIGINT");
          const timer = setTimeout(() => {
            if (pid) {
              try {
                process.kill(pid, "SIGQUIT");
              } catch { /* gone */ }
            }
          }, 10_000);
          await exited;
          clearTimeout(timer);
          removeRoot();
        })(),
    };
  } catch (error) {
    child?.kill("SIGKILL");
    removeRoot();
    throw error;
  }
}
