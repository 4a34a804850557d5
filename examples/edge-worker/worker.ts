// A stateless module Worker (Cloudflare Workers, workerd) in front of a fleet of counter hosts:
// it holds no entity and no log. Each request opens a NATS connection over WebSocket, sends
// the counter's command through an EntityClient to the host that owns the counter
// (examples/fleet/host.ts), answers, and closes the connection after the response. Bundle it
// with build.mjs and serve it with workerd (config.capnp) or wrangler.
//
// Workers tie every I/O object (a WebSocket, a timer) to the request that created it, so a
// NATS connection opened in one request cannot serve the next one: hence one per request.
//
// Bindings: NATS_URL (text: the nats-server's WebSocket URL, e.g. wss://nats.example.com or
// ws://127.0.0.1:8080); optionally CLUSTER (text: the hosts' cluster, default "counters"),
// COMMAND_TIMEOUT (text: ms a command may take, retries included, default 10000), and
// NATS_TOKEN, or NATS_USER and NATS_PASS (secrets).

import { wsconnect } from "@nats-io/nats-core";
import { EntityClient } from "../../adapters/nats/mod.ts";
import { counterCommands } from "../fleet/counter.ts";
import { errorMessage, handleCounterRequest, json } from "../fleet/routes.ts";

/** The Worker's bindings. */
export interface Env {
  NATS_URL: string;
  CLUSTER?: string;
  COMMAND_TIMEOUT?: string;
  NATS_TOKEN?: string;
  NATS_USER?: string;
  NATS_PASS?: string;
}

/** The part of the Worker's execution context this Worker uses. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/health") return json({ ok: true });
    if (!pathname.startsWith("/counter/") && pathname !== "/hosts") {
      return json({ error: "Not found" }, 404);
    }
    let nc;
    try {
      nc = await wsconnect({
        servers: env.NATS_URL,
        name: "eventsourced-edge-worker",
        // One request, one connection: a lost connection fails the request instead of
        // reconnecting in the background after the response.
        reconnect: false,
        ...(env.NATS_TOKEN ? { token: env.NATS_TOKEN } : {}),
        ...(env.NATS_USER ? { user: env.NATS_USER, pass: env.NATS_PASS ?? "" } : {}),
      });
    } catch (error) {
      return json(
        { error: `Cannot reach NATS at ${env.NATS_URL}: ${errorMessage(error)}` },
        503,
        { "retry-after": "1" },
      );
    }
    try {
      const client = new EntityClient(nc, {
        cluster: env.CLUSTER || "counters",
        entities: { counter: counterCommands },
        ...(env.COMMAND_TIMEOUT ? { timeout: Number(env.COMMAND_TIMEOUT) } : {}),
      });
      return await handleCounterRequest(request, client);
    } catch (error) {
      // Only a bad binding gets here (the handler answers every failure of a command).
      return json({ error: `The Worker is misconfigured: ${errorMessage(error)}` }, 500);
    } finally {
      // Closing waits for the server's answer; the response need not.
      ctx.waitUntil(nc.close().catch(() => {}));
    }
  },
};
