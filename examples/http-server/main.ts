// The counter API (examples/edge-worker/routes.ts) as an HTTP server on Deno or Bun: one
// `fetch` handler, served by `Deno.serve` or `Bun.serve`, whichever runtime runs this file,
// with the counters in an EntityRegistry (one live entity per id) on PGlite or in memory.
//
//   deno run -A examples/http-server/main.ts [--port 8000] [--memory | --data-dir DIR]
//   bun examples/http-server/main.ts         [--port 8000] [--memory | --data-dir DIR]
//
// Default storage: PGlite in ./.data/http-server (a restart recovers the counters); --memory
// keeps nothing. --port 0 picks a free port; the server prints "Listening on <url>" when it
// is ready, and on SIGINT or SIGTERM finishes its requests, stops the entities and exits.
//
//   curl -X POST 'http://127.0.0.1:8000/counter/a/increase?by=2'   {"id":"a","value":2}
//   curl 'http://127.0.0.1:8000/counter/a'                          {"id":"a","value":2}

import process from "node:process";
import { PGlite } from "@electric-sql/pglite";
import { EntityRegistry, jsonBinarize, MemoryEventLog, MemorySnapshotStore } from "../../mod.ts";
import { PgliteEventLog, PgliteSnapshotStore } from "../../adapters/pglite/mod.ts";
import { counter } from "../edge-worker/counter.ts";
import { errorMessage, handleCounterRequest, json } from "../edge-worker/routes.ts";

interface Options {
  port: number;
  hostname: string;
  memory: boolean;
  dataDir: string;
}

function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    port: Number(process.env.PORT ?? 8000),
    hostname: "127.0.0.1",
    memory: false,
    dataDir: "./.data/http-server",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new TypeError(`Missing value after ${arg}`);
      return next;
    };
    if (arg === "--port") options.port = Number(value());
    else if (arg === "--hostname") options.hostname = value();
    else if (arg === "--memory") options.memory = true;
    else if (arg === "--data-dir") options.dataDir = value();
    else throw new TypeError(`Unknown argument ${JSON.stringify(arg)}`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RangeError(`Invalid port ${options.port}`);
  }
  return options;
}

type FetchHandler = (request: Request) => Promise<Response>;

/** What this example needs of `Deno.serve` and `Bun.serve`. */
interface DenoLike {
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (address: { hostname: string; port: number }) => void;
    },
    handler: FetchHandler,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
}
interface BunLike {
  serve(options: { port: number; hostname: string; fetch: FetchHandler }): {
    port: number;
    hostname: string;
    stop(closeActiveConnections?: boolean): Promise<void> | void;
  };
}

/** A running server: its URL and how to stop it. */
interface Served {
  url: string;
  stop(): Promise<void>;
}

/** The runtime's own HTTP server: `Bun.serve` or `Deno.serve`. */
function runtimeServer(): (
  handler: FetchHandler,
  port: number,
  hostname: string,
) => Promise<Served> {
  const runtime = globalThis as { Deno?: DenoLike; Bun?: BunLike };
  const bun = runtime.Bun;
  if (bun !== undefined) {
    return (handler, port, hostname) => {
      const server = bun.serve({ port, hostname, fetch: handler });
      return Promise.resolve({
        url: `http://${hostname}:${server.port}`,
        stop: async () => void await server.stop(),
      });
    };
  }
  const deno = runtime.Deno;
  if (deno !== undefined) {
    return (handler, port, hostname) =>
      new Promise((resolve) => {
        const server = deno.serve({
          port,
          hostname,
          onListen: (address) =>
            resolve({
              url: `http://${hostname}:${address.port}`,
              stop: () => server.shutdown(),
            }),
        }, handler);
      });
  }
  throw new Error("Run this example with Deno or Bun: it serves with Deno.serve or Bun.serve");
}

const serve = runtimeServer();
const options = parseArgs(process.argv.slice(2));
const storage = options.memory
  ? {
    description: "memory",
    eventLog: new MemoryEventLog(),
    snapshotStore: new MemorySnapshotStore(),
    close: () => Promise.resolve(),
  }
  : await (async () => {
    const db = await PGlite.create({ dataDir: options.dataDir });
    const eventLog = new PgliteEventLog(db);
    const snapshotStore = new PgliteSnapshotStore(db);
    await eventLog.setup();
    await snapshotStore.setup();
    return {
      description: `PGlite in ${options.dataDir}`,
      eventLog,
      snapshotStore,
      close: () => db.close(),
    };
  })();

const counters = new EntityRegistry(counter, {
  eventLog: storage.eventLog,
  snapshotStore: storage.snapshotStore,
  snapshotAfter: 100,
  binarize: jsonBinarize(),
});

async function handler(request: Request): Promise<Response> {
  if (new URL(request.url).pathname === "/health") return json({ ok: true });
  try {
    return await handleCounterRequest(request, counters);
  } catch (error) {
    return json({ error: errorMessage(error) }, 500);
  }
}

const server = await serve(handler, options.port, options.hostname);
console.log(`Listening on ${server.url} (counters in ${storage.description})`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await server.stop();
  await counters.close();
  await storage.close();
  console.log("Stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
