// Helpers of the edge tests (workerd, Chromium, the Deno/Bun HTTP server): paths from the
// repository root, free loopback ports, child processes that are always stopped, a static
// file server, and the examples' esbuild bundles. Only node: APIs, so the tests run on Deno,
// Bun and Node; the tests run from the repository root (on Node from the compiled copy in
// dist/npm/tests), hence paths from process.cwd().

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { extname, join, resolve } from "node:path";
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

/** A free TCP port on 127.0.0.1. */

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
