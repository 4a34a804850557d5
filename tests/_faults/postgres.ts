// A PostgreSQL server for the fault tests that can also be restarted: it is the server of
// tests/_servers/postgres.ts (always a fresh one of our own, never PG_URL's, since we restart
// it), plus `restart(mode)` through `pg_ctl` on its data directory. `pg_ctl restart` reuses the
// server's recorded command line, so it comes back on the same port.

import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { startPostgres } from "../_servers/postgres.ts";

/** A server the test owns. */
export interface OwnPostgres {
  readonly url: string;
  /**
   * Stops the server (`immediate`: a crash, replayed from the WAL at start; `fast`: a clean
   * shutdown) and starts it again on the same port; resolves once it accepts connections.
   */
  restart(mode: "immediate" | "fast"): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

function binDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "pg_ctl"))) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => +b - +a);
    for (const v of versions) {
      if (existsSync(join(base, v, "bin", "pg_ctl"))) return join(base, v, "bin");
    }
  }
  for (const dir of ["/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin"]) {
    if (existsSync(join(dir, "pg_ctl"))) return dir;
  }
  throw new Error("Cannot restart PostgreSQL: no pg_ctl found (set PG_BIN)");
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

function pgCtl(args: string[]): Promise<void> {
  const pgctl = join(binDir(), "pg_ctl");
  const [command, commandArgs] = isRoot
    ? ["runuser", ["-u", "postgres", "--", pgctl, ...args]]
    : [pgctl, args];
  return new Promise((resolve, reject) => {
    execFile(command, commandArgs, { timeout: 90_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`pg_ctl ${args[0]} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}

/** Starts a PostgreSQL server of the test's own (ignoring PG_URL). */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const given = process.env.PG_URL;
  delete process.env.PG_URL;
  let server;
  try {
    server = await startPostgres({ fsync: false });
  } finally {
    if (given !== undefined) process.env.PG_URL = given;
  }
  const admin = postgres(server.url, { max: 1, onnotice: () => {} });
  let data: string;
  try {
    const rows = await admin.unsafe("show data_directory");
    data = String(rows[0]!.data_directory);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const log = join(dirname(data), "restart.log");
  let restarted = false;
  return {
    url: server.url,
    async restart(mode) {
      restarted = true;
      await pgCtl(["restart", "-D", data, "-m", mode, "-w", "-t", "60", "-l", log]);
    },
    async stop() {
      // A server that pg_ctl started is not the helper's child: stop it here first, so the
      // helper removes the folder only after it is down.
      if (restarted) {
        await pgCtl(["stop", "-D", data, "-m", "fast", "-w", "-t", "30"]).catch(() => {});
      }
      await server.stop();
    },
  };
}
