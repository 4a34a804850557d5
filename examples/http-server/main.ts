// The counter API (examples/fleet/routes.ts) as an HTTP server on Deno or Bun that runs as one
// of a fleet: each server process is an EntityHost of the counter cluster (it owns a share of
// the counters) and forwards every request through an EntityClient to the counter's owner,
// which may be itself or another server. Start as many as you like on one NATS; stop one with
// SIGINT or SIGTERM and the others take its counters over.
//
//   deno run -A examples/http-server/main.ts [--port 8000] [--nats URL] [--cluster NAME] [--host-id ID]
//   bun examples/http-server/main.ts         [same options]
//
// --nats (or NATS_URL): nats://host:port over TCP or ws:// over WebSocket, default
// nats://127.0.0.1:4222; --cluster (or CLUSTER): default "counters"; --shards and --stream as
// for examples/fleet/host.ts. --port 0 picks a free port; the server prints
// "Listening on <url> as host <id> of cluster <name>" when it is ready, and on SIGINT or
// SIGTERM stops serving HTTP, hands its counters over, closes its connection and prints
// "Stopped".
//
//   curl -X POST 'http://127.0.0.1:8000/counter/a/increase?by=2'   {"id":"a","value":2}
//   curl 'http://127.0.0.1:8000/counter/a'                          {"id":"a","value":2}
//   curl 'http://127.0.0.1:8000/hosts'                              which host owns which shards

import process from "node:process";
import { EntityClient } from "../../adapters/nats/mod.ts";
import { counterCommands } from "../fleet/counter.ts";
import { connectNats } from "../fleet/connect.ts";
import { startCounterHost } from "../fleet/counter_host.ts";
import { parseHostArgs, stopOnSignal } from "../fleet/cli.ts";
import { errorMessage, handleCounterRequest, json } from "../fleet/routes.ts";

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
let port = Number(process.env.PORT ?? 8000);
let hostname = "127.0.0.1";
const args = parseHostArgs(process.argv.slice(2), (arg, value) => {
  if (arg === "--port") port = Number(value());
  else if (arg === "--hostname") hostname = value();
  else return false;
  return true;
});
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new RangeError(`Invalid port ${port}`);
}

const nc = await connectNats(args.nats, "eventsourced-http-server");
const host = await startCounterHost(nc, args);
const client = new EntityClient(nc, {
  cluster: args.cluster,
  entities: { counter: counterCommands },
});

async function handler(request: Request): Promise<Response> {
  if (new URL(request.url).pathname === "/health") return json({ ok: true });
  try {
    return await handleCounterRequest(request, client);
  } catch (error) {
    return json({ error: errorMessage(error) }, 500);
  }
}

const server = await serve(handler, port, hostname);
// HTTP first (its requests finish), then the host hands its counters over.
stopOnSignal(async () => {
  await server.stop();
  await host.stop();
  await nc.close();
});
console.log(`Listening on ${server.url} as host ${host.hostId} of cluster "${args.cluster}"`);
