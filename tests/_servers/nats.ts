// Starts a real nats-server with JetStream and a WebSocket listener on free loopback ports, with
// its own config file and store directory, for the NATS tests and the benchmark. Plain text by
// default; with `tls` both listeners require TLS (TCP and `wss://`).
// Uses only node: APIs, so it runs on Deno, Bun and Node. When NATS_WS_URL is set (and the
// caller does not need to control the process), that server is used instead.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "./free_port.ts";

/** A nats-server the tests can reach, restart and remove. */
export interface NatsTestServer {
  /** `ws://127.0.0.1:<port>`, `wss://` with `tls` (or `NATS_WS_URL`). */
  readonly wsUrl: string;
  /**
   * `nats://127.0.0.1:<port>`, for connections over TCP (TLS with `tls`: the server requires
   * it in its INFO); `undefined` for `NATS_WS_URL`.
   */
  readonly tcpUrl: string | undefined;
  /** `http://127.0.0.1:<port>` of the monitoring endpoints (/varz, /jsz) with `monitor`. */
  readonly monitorUrl: string | undefined;
  /** The server's temporary folder (config and JetStream store). */
  readonly dir: string | undefined;
  /** Stops the process (SIGTERM) and waits for it to exit; the store directory stays. */
  stop(): Promise<void>;
  /** Ends the process with `signal` (SIGKILL: a crash) and waits for it to exit. */
  kill(signal: "SIGKILL" | "SIGTERM"): Promise<void>;
  /**
   * Starts the stopped process again on the same ports and store directory; with
   * `jetStream: false` without JetStream, like a server whose JetStream is not ready yet.
   */
  start(options?: { jetStream?: boolean }): Promise<void>;
  /** Stops the process and removes its directory. */
  dispose(): Promise<void>;
}

/** Options of {@linkcode startNatsServer}. */
export interface StartNatsServerOptions {
  /** Always start an own process, even when `NATS_WS_URL` is set (for restart tests). */
  own?: boolean;
  /** More lines for the config file, such as an `authorization` block; implies `own`. */
  extraConfig?: string;
  /** The server's `max_payload` in bytes (default the server's, 1 MB); implies `own`. */
  maxPayload?: number;
  /**
   * Certificate and key (PEM files) of the server: TCP and WebSocket then require TLS, and no
   * plain-text client is let in; implies `own`.
   */
  tls?: { certFile: string; keyFile: string };
  /** Open the monitoring port (`http: 127.0.0.1:<free port>`), for /varz and /jsz. */
  monitor?: boolean;
  /** Where the temporary folder goes; default the system's temp folder. */
  parentDir?: string;
}

function findBinary(): string {
  const fromEnv = process.env.NATS_SERVER;
  if (fromEnv) return fromEnv;
  for (
    const path of ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
  ) {
    if (existsSync(path)) return path;
  }
  return "nats-server";
}

/** Starts a server (or wraps `NATS_WS_URL`); call `dispose()` in `after()`. */
export async function startNatsServer(
  options: StartNatsServerOptions = {},
): Promise<NatsTestServer> {
  const external = process.env.NATS_WS_URL;
  const own = options.own || options.extraConfig !== undefined ||
    options.maxPayload !== undefined || options.tls !== undefined;
  const tls = options.tls === undefined ? undefined : [
    `  tls {`,
    `    cert_file: ${JSON.stringify(options.tls.certFile)}`,
    `    key_file: ${JSON.stringify(options.tls.keyFile)}`,
    `  }`,
  ];
  if (external && !own) {
    const unsupported = () =>
      Promise.reject(new Error("Cannot restart the server named by NATS_WS_URL"));
    return {
      wsUrl: external,
      tcpUrl: undefined,
      monitorUrl: undefined,
      dir: undefined,
      stop: unsupported,
      kill: unsupported,
      start: unsupported,
      dispose: () => Promise.resolve(),
    };
  }
  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), "eventsourced-nats-"));
  const port = await freePort();
  let wsPort = await freePort();
  while (wsPort === port) wsPort = await freePort();
  let httpPort = options.monitor ? await freePort() : 0;
  while (options.monitor && (httpPort === port || httpPort === wsPort)) httpPort = await freePort();
  const config = join(dir, "nats.conf");
  const writeConfig = (jetStream: boolean) =>
    writeFileSync(
      config,
      [
        `listen: "127.0.0.1:${port}"`,
        ...(tls === undefined ? [] : [`tls {`, ...tls.slice(1, -1), `}`]),
        ...(options.maxPayload === undefined ? [] : [`max_payload: ${options.maxPayload}`]),
        ...(options.monitor ? [`http: "127.0.0.1:${httpPort}"`] : []),
        ...(jetStream
          ? [
            `jetstream {`,
            `  store_dir: ${JSON.stringify(join(dir, "store"))}`,
            `  max_memory_store: 268435456`,
            `  max_file_store: 4294967296`,
            `}`,
          ]
          : []),
        `websocket {`,
        `  listen: "127.0.0.1:${wsPort}"`,
        ...(tls ?? [`  no_tls: true`]),
        `}`,
        options.extraConfig ?? ``,
        ``,
      ].join("\n"),
    );
  const binary = findBinary();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  // A test process that ends without dispose() leaves no server behind.
  const onExit = () => child?.kill("SIGKILL");
  process.on("exit", onExit);

  const start = async (startOptions: { jetStream?: boolean } = {}): Promise<void> => {
    if (child !== undefined) throw new Error("nats-server is already running");
    writeConfig(startOptions.jetStream ?? true);
    const proc = spawn(binary, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`nats-server did not get ready within 20 s:\n${output}`));
      }, 20_000);
      const done = (error?: Error) => {
        clearTimeout(timer);
        proc.stderr?.off("data", onData);
        proc.off("exit", onExit);
        proc.off("error", onError);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Uint8Array) => {
        output += new TextDecoder().decode(chunk);
        if (output.includes("Server is ready")) done();
      };
      const onExit = (code: number | null) =>
        done(new Error(`nats-server exited with ${code} before it was ready:\n${output}`));
      const onError = (error: Error) =>
        done(new Error(`Cannot start ${binary}: ${error.message}`, { cause: error }));
      proc.stderr?.on("data", onData);
      proc.once("exit", onExit);
      proc.once("error", onError);
    }).catch((error) => {
      child = undefined;
      proc.kill("SIGKILL");
      throw error;
    });
    // Keep reading stderr so the pipe never fills up.
    proc.stderr?.on("data", () => {});
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
    wsUrl: `${tls === undefined ? "ws" : "wss"}://127.0.0.1:${wsPort}`,
    tcpUrl: `nats://127.0.0.1:${port}`,
    monitorUrl: options.monitor ? `http://127.0.0.1:${httpPort}` : undefined,
    dir,
    stop: () => kill("SIGTERM"),
    kill,
    start,
    dispose: async () => {
      await kill("SIGTERM");
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
