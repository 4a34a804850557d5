// Helpers of the edge tests (workerd, Chromium, the Deno/Bun HTTP servers): paths from the
// repository root, free loopback ports, child processes that are always stopped, the counter
// hosts of the fleet, a static file server, and the examples' esbuild bundles. Only node: APIs, so the tests run on Deno,
// Bun and Node; the tests run from the repository root (on Node from the compiled copy in
// dist/npm/tests), hence paths from process.cwd().

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { freePort } from "./_servers/free_port.ts";

export { freePort };

/**
 * The slow setup of a test file (servers, builds, a browser), started by the first test that
 * needs it and shared by the rest. Not a `before` hook: Bun runs hooks under its default
 * 5 s timeout whatever their options say, while it honours a test's own `timeout`.
 */
export function lazy<T>(setup: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => started ??= setup();
}

/** Bounds every test of the edge suites (child processes, a browser, a cold esbuild). */
export const TEST_TIMEOUT = { timeout: 120_000 };

/** An absolute path inside the repository. */
export function repoPath(...parts: string[]): string {
  return resolve(process.cwd(), ...parts);
}

/** A binary from node_modules/.bin, or `fallback` (e.g. an environment variable's value). */
export function binPath(name: string, fallback?: string): string {
  if (fallback) return fallback;
  const path = repoPath("node_modules", ".bin", name);
  if (!existsSync(path)) throw new Error(`Cannot find ${name}: ${path} is missing (npm ci)`);
  return path;
}

/**
 * Bundles an example with its build.mjs (esbuild) into `outfile`; returns the path. The script
 * runs under Node (this process's, or node_modules/.bin/node), so the bundle is the same
 * whichever runtime runs the test.
 */
export async function buildExample(example: string, outfile: string): Promise<string> {
  const node = process.release?.name === "node" && !("Deno" in globalThis) &&
      !("Bun" in globalThis)
    ? process.execPath
    : binPath("node");
  const child = startChild(node, [repoPath("examples", example, "build.mjs"), outfile]);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.process.kill("SIGKILL"), 60_000);
    child.process.once("close", (status) => {
      clearTimeout(timer);
      resolve(status);
    });
  });
  if (code !== 0 || !existsSync(outfile)) {
    throw new Error(`Building examples/${example} failed (${code}):\n${child.output()}`);
  }
  return resolve(outfile);
}

/** A child process whose output is kept for error messages. */
export interface Child {
  readonly process: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited and its output ended. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `command`; `env` is added to this process's environment. */
export function startChild(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Child {
  const child = spawn(command, [...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const decoder = new TextDecoder();
  const collect = (chunk: Uint8Array) => {
    output += decoder.decode(chunk, { stream: true });
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exited = false;
  // "close" rather than "exit": the output is complete by then.
  const exit = new Promise<void>((resolve) => {
    child.once("close", () => {
      exited = true;
      resolve();
    });
    child.once("error", (error) => {
      output += `\n(cannot start ${command}: ${error.message})\n`;
      exited = true;
      resolve();
    });
  });
  return {
    process: child,
    output: () => output,
    stop: async (graceMs = 5_000) => {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * Waits until the child's output matches `pattern` and returns the match; fails with the
 * output when the child exits first or `timeoutMs` passes.
 */
export async function waitForOutput(
  child: Child,
  pattern: RegExp,
  what: string,
  timeoutMs = 60_000,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(child.output());
    if (match !== null) return match;
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${child.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${child.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The command that runs the counter host of the fleet (examples/fleet/host.ts) on the
 * runtime this test runs on: `deno run -A host.ts`, `bun host.ts`, or `node host.js` (the
 * compiled copy in dist/npm beside this file's, with --experimental-websocket on Node 20).
 */
function hostCommand(): [string, string[]] {
  const compiled = import.meta.url.endsWith(".js");
  const script = fileURLToPath(
    new URL(`../examples/fleet/host.${compiled ? "js" : "ts"}`, import.meta.url),
  );
  const runtime = globalThis as { Deno?: unknown; Bun?: unknown };
  if (runtime.Deno !== undefined) return [process.execPath, ["run", "-A", script]];
  if (runtime.Bun !== undefined) return [process.execPath, [script]];
  const major = Number(process.versions.node.split(".")[0]);
  return [process.execPath, [...(major < 22 ? ["--experimental-websocket"] : []), script]];
}

/** A counter host of the fleet, running as a child process. */
export interface FleetHost {
  readonly child: Child;
  /** The id it printed in its ready line. */
  readonly hostId: string;
}

/**
 * Starts a counter host (examples/fleet/host.ts) on this test's runtime with `args` (e.g.
 * `["--nats", url, "--shards", "16"]`) and waits for its ready line.
 */
export async function startFleetHost(args: readonly string[]): Promise<FleetHost> {
  const [command, prefix] = hostCommand();
  const child = startChild(command, [...prefix, ...args]);
  try {
    const match = await waitForOutput(child, /^Host (\S+) serves counter/m, "The counter host");
    return { child, hostId: match[1]! };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/**
 * Stops a host with SIGTERM and checks that it handed over cleanly: it printed "Stopped"
 * after `host.stop()` and closing its connection, and exited with 0. (Deno's
 * node:child_process reports the signal sent by kill() as the exit reason even when the
 * child exits with 0, so there the printed line is the proof.)
 */
export async function stopGracefully(child: Child, graceMs = 30_000): Promise<void> {
  const exited = new Promise<number | string | null>((resolve) => {
    if (child.process.exitCode !== null) resolve(child.process.exitCode);
    child.process.once("exit", (code, signal) => resolve(code ?? signal));
  });
  await child.stop(graceMs);
  const code = await exited;
  if (!/SIG(TERM|INT): stopping\n(?:.*\n)*Stopped\n/.test(child.output())) {
    throw new Error(`The process did not stop cleanly (${code}):\n${child.output()}`);
  }
  if (!("Deno" in globalThis) && code !== 0) {
    throw new Error(`The process exited with ${code}:\n${child.output()}`);
  }
}

/** Polls `url` until it answers (any status) or `timeoutMs` passes; fails with the output. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`The child exited before it answered ${url}:\n${child.output()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`No answer from ${url} within ${timeoutMs} ms (${last}):\n${child.output()}`, {
    cause: last,
  });
}

/** Sends a request and returns the status and the parsed JSON body. */
export async function request(
  url: string,
  method = "GET",
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method, headers, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${url}: ${response.status}, not JSON: ${text}`);
  }
  return { status: response.status, body };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** A static HTTP server on 127.0.0.1 serving `files` (URL path to file path). */
export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

export function serveStatic(files: Record<string, string>): Promise<StaticServer> {
  const server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const file = files[path];
    if (file === undefined || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": body.length,
      "cache-control": "no-store",
    }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The JSON bodies of the counter events in `events`, in order. */
export function decodeJson(events: readonly { bytes: Uint8Array }[]): unknown[] {
  const decoder = new TextDecoder();
  return events.map((event) => JSON.parse(decoder.decode(event.bytes)));
}

export { join };

/** Debian's Chromium (or `CHROMIUM`), as the browser tests launch it. */
export const CHROMIUM: string = process.env.CHROMIUM ?? "/usr/bin/chromium";

/**
 * Headless Chromium's flags for a closed machine: without the background-networking ones it
 * keeps trying to reach Google's hosts, which this network refuses.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
