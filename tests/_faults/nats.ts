// A nats-server for the fault and hostile-input tests, for what tests/_servers/nats.ts does not
// offer: a hard kill (SIGKILL, no clean shutdown) before a restart, and a small `max_payload`.
// JetStream with file storage and a plain WebSocket listener on free loopback ports, its own
// config and store folder, removed by dispose().

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** A server the test owns. */
export interface OwnNats {
  readonly wsUrl: string;
  /** Ends the process with `signal` (SIGKILL: a crash) and waits for the exit. */
  kill(signal: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again on the same ports and store. */
  start(): Promise<void>;
  /** Kills it and removes its folder. */
  dispose(): Promise<void>;
}

/** Options of {@linkcode startOwnNats}. */
export interface OwnNatsOptions {
  /** The server's `max_payload` in bytes; default the server's (1 MB). */
  maxPayload?: number;
}

function binary(): string {
  if (process.env.NATS_SERVER) return process.env.NATS_SERVER;
  for (
    const path of ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
  ) {
    if (existsSync(path)) return path;
  }
  return "nats-server";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts the server; call dispose() in after(). */
export async function startOwnNats(options: OwnNatsOptions = {}): Promise<OwnNats> {
  const dir = mkdtempSync(join(tmpdir(), "eventsourced-faults-nats-"));
  const port = await freePort();
  let wsPort = await freePort();
  while (wsPort === port) wsPort = await freePort();
  const config = join(dir, "nats.conf");
  writeFileSync(
    config,
    [
      `listen: "127.0.0.1:${port}"`,
      ...(options.maxPayload === undefined ? [] : [`max_payload: ${options.maxPayload}`]),
      `jetstream {`,
      `  store_dir: ${JSON.stringify(join(dir, "store"))}`,
      `  max_memory_store: 67108864`,
      `  max_file_store: 1073741824`,
      `}`,
      `websocket {`,
      `  listen: "127.0.0.1:${wsPort}"`,
      `  no_tls: true`,
      `}`,
      ``,
    ].join("\n"),
  );
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const onExit = () => child?.kill("SIGKILL");
  process.on("exit", onExit);

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error("nats-server is already running");
    const proc = spawn(binary(), ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not get ready within 20 s:\n${output}`)),
        20_000,
      );
      proc.stderr!.on("data", (chunk: Uint8Array) => {
        output += new TextDecoder().decode(chunk);
        if (output.includes("Server is ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code} before it was ready:\n${output}`));
      });
      proc.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    }).catch((error) => {
      child = undefined;
      proc.kill("SIGKILL");
      throw error;
    });
  };

  const kill = async (signal: "SIGKILL" | "SIGTERM"): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    kill,
    start,
    async dispose() {
      await kill("SIGKILL");
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
