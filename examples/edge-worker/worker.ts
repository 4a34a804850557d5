// A module Worker (Cloudflare Workers, workerd) that keeps counters in NATS JetStream over
// WebSocket. Bundle it with build.mjs and serve it with workerd (config.capnp) or wrangler.
//
// Workers tie every I/O object (a WebSocket, a timer, a pending promise) to the request that
// created it, so a NATS connection opened in one request cannot serve the next one. A Durable
// Object is the place where state and connections live across requests: the stateless entry
// point forwards every counter request to the Durable Object `Counters`, which owns one NATS
// connection and an EntityRegistry, so each counter id has exactly one live entity. One object
// serves all counters here; to spread the load, shard by id (`idFromName("counters-" + n)`).
//
// Bindings: NATS_URL (text: the nats-server's WebSocket URL, e.g. wss://nats.example.com or
// ws://127.0.0.1:8080), COUNTERS (the Durable Object namespace of class Counters); optionally
// NATS_TOKEN, or NATS_USER and NATS_PASS (secrets), and NATS_STREAM and NATS_SUBJECT_PREFIX
// (text) to use another stream than "eventsourced".

import { EntityRegistry, jsonBinarize } from "../../mod.ts";
import { NatsEventLog } from "../../adapters/nats/mod.ts";
import { counter, type CounterEvent } from "./counter.ts";
import { errorMessage, handleCounterRequest, json } from "./routes.ts";

/** The part of a Durable Object namespace binding this Worker uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** The Worker's bindings. */
export interface Env {
  NATS_URL: string;
  NATS_TOKEN?: string;
  NATS_USER?: string;
  NATS_PASS?: string;
  NATS_STREAM?: string;
  NATS_SUBJECT_PREFIX?: string;
  COUNTERS: DurableObjectNamespaceLike;
}

export default {
  fetch(request: Request, env: Env): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/health") return json({ ok: true });
    if (!pathname.startsWith("/counter/")) return json({ error: "Not found" }, 404);
    return env.COUNTERS.get(env.COUNTERS.idFromName("counters")).fetch(request);
  },
};

/** The Durable Object that owns the NATS connection and the counters' registry. */
export class Counters {
  readonly #env: Env;
  #counters: Promise<EntityRegistry<number, CounterEvent>> | undefined;

  constructor(_state: unknown, env: Env) {
    this.#env = env;
  }

  async fetch(request: Request): Promise<Response> {
    let counters: EntityRegistry<number, CounterEvent>;
    try {
      counters = await this.#registry();
    } catch (error) {
      return json(
        { error: `Cannot reach NATS at ${this.#env.NATS_URL}: ${errorMessage(error)}` },
        503,
      );
    }
    return handleCounterRequest(request, counters);
  }

  // Connects on first use; a failed connect is retried by the next request.
  #registry(): Promise<EntityRegistry<number, CounterEvent>> {
    this.#counters ??= (async () => {
      const env = this.#env;
      const eventLog = await NatsEventLog.connect({
        servers: env.NATS_URL,
        name: "eventsourced-edge-worker",
        ...(env.NATS_TOKEN ? { token: env.NATS_TOKEN } : {}),
        ...(env.NATS_USER ? { user: env.NATS_USER, pass: env.NATS_PASS ?? "" } : {}),
        ...(env.NATS_STREAM ? { stream: env.NATS_STREAM } : {}),
        ...(env.NATS_SUBJECT_PREFIX ? { subjectPrefix: env.NATS_SUBJECT_PREFIX } : {}),
      });
      try {
        await eventLog.setup();
      } catch (error) {
        await eventLog.close();
        throw error;
      }
      return new EntityRegistry(counter, {
        eventLog,
        binarize: jsonBinarize(),
        passivateAfter: 5 * 60_000,
      });
    })();
    this.#counters.catch(() => (this.#counters = undefined));
    return this.#counters;
  }
}
