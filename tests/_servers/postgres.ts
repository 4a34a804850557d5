// Starts a throwaway PostgreSQL server for integration tests and benchmarks: `initdb` into a
// temporary folder, `postgres` on a free loopback port, removed again by `stop()`. When
// `PG_URL` is set, that server is used instead and nothing is started. Runs on Deno, Bun and
// Node through node: modules only. As root, the server runs as the `postgres` OS user (the
// server refuses to run as root), through `runuser`.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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
  /**
   * Certificate and key (PEM files) of the server: `ssl = on` with them (copied into the
   * server's folder, readable by its user only).
   */
  tls?: { certFile: string; keyFile: string };
  /** With `tls`: refuse plain-text TCP connections (`hostssl` lines only in pg_hba.conf). */
  requireTls?: boolean;
  /**
   * The superuser's password: TCP connections then authenticate with SCRAM (the socket stays
   * trusted), and `url` carries the password.
   */
  password?: string;
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
  // A server with TLS or passwords is always the suite's own.
  const own = options.tls !== undefined || options.password !== undefined;
  const given = own ? undefined : process.env.PG_URL;
  if (given) return { url: given, stop: () => Promise.resolve() };

  const bin = findBinDir();
  const root = mkdtempSync(join(tmpdir(), "eventsourced-pg-"));
  const data = join(root, "data");
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  let child: ChildProcess | undefined;
  try {
    const owner = isRoot ? userIds("postgres") : undefined;
    if (owner !== undefined) chownSync(root, owner.uid, owner.gid);
    const ownFile = (path: string, mode: number) => {
      chmodSync(path, mode);
      if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
    };
    const passwordFile = join(root, "password");
    if (options.password !== undefined) {
      writeFileSync(passwordFile, `${options.password}\n`);
      ownFile(passwordFile, 0o600);
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
      ...(options.password === undefined ? [] : [`--pwfile=${passwordFile}`]),
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

    // Who may connect how: the socket is always trusted (the tests' own set-up), TCP with SCRAM
    // when there is a password, and over TLS only with `requireTls`.
    const method = options.password === undefined ? "trust" : "scram-sha-256";
    const tcp = options.requireTls ? ["hostssl"] : ["host"];
    writeFileSync(
      join(data, "pg_hba.conf"),
      [
        "local all all trust",
        ...tcp.map((kind) => `${kind} all all 127.0.0.1/32 ${method}`),
        "",
      ].join("\n"),
    );
    const tlsSettings: Record<string, string> = {};
    if (options.tls !== undefined) {
      const certFile = join(root, "server.crt");
      const keyFile = join(root, "server.key");
      copyFileSync(options.tls.certFile, certFile);
      copyFileSync(options.tls.keyFile, keyFile);
      ownFile(certFile, 0o644);
      ownFile(keyFile, 0o600);
      Object.assign(tlsSettings, { ssl: "on", ssl_cert_file: certFile, ssl_key_file: keyFile });
    }

    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      port: String(port),
      unix_socket_directories: root,
      fsync: options.fsync === false ? "off" : "on",
      max_connections: "200",
      shared_buffers: "128MB",
      ...tlsSettings,
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
      url: options.password === undefined
        ? `postgres://postgres@127.0.0.1:${port}/postgres`
        : `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres`,
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
