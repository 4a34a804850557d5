// The browser example: an EntityClient, bundled for the browser by build.mjs, sends counter
// commands over NATS WebSocket to the hosts of the counter fleet (examples/fleet/host.ts),
// which own the counters; the page holds no entity. It then reads the counter's events
// straight from JetStream with an EventReader, asks which hosts serve the cluster, and
// writes what it got into the page (the <pre id="result"> element and `window.__result`,
// which the test reads).
//
// The page takes its settings from the query string:
//   nats     the WebSocket URL of nats-server (default ws://127.0.0.1:8080)
//   cluster  the hosts' cluster (default "counters")
//   id       the counter's id (default: a random one)
//   timeout  ms a command may take, the client's retries included (default 10000)
//   stream   JetStream stream and subject prefix of the hosts' events (default "eventsourced")

import { wsconnect } from "@nats-io/nats-core";
import { EventReader, jsonBinarize } from "../../mod.ts";
import { EntityClient, NatsEventLog } from "../../adapters/nats/mod.ts";
import { counter, counterCommands, type CounterEvent } from "../fleet/counter.ts";
import { errorMessage } from "../fleet/routes.ts";

/** What the page reports, as JSON. */
export interface PageResult {
  ok: boolean;
  id: string;
  /**
   * The results, in order, of: increase 5, increase 7, decrease 20, decrease 2 (command id
   * `<id>-d2`), decrease 2 again with the same command id, get.
   */
  replies?: unknown[];
  /** The counter's events read back from JetStream: [seqNo, event]. */
  events?: [number, CounterEvent][];
  /** The hosts of the cluster and the shards of "counter" each owns. */
  hosts?: { hostId: string; shards: number }[];
  error?: string;
}

// The little of the DOM this page touches, typed here so the file also type-checks without
// the DOM library (deno check).
interface PageDocument {
  getElementById(id: string): { textContent: string | null } | null;
  readonly documentElement: { readonly dataset: Record<string, string | undefined> };
}
const page = globalThis as unknown as { document: PageDocument; __result?: PageResult };

const params = new URL(location.href).searchParams;
const servers = params.get("nats") ?? "ws://127.0.0.1:8080";
const cluster = params.get("cluster") ?? "counters";
const id = params.get("id") ?? `browser-${crypto.randomUUID()}`;
const timeout = Number(params.get("timeout") ?? "10000");
const stream = params.get("stream");

function show(result: PageResult): void {
  // As JSON, so the page and `window.__result` hold the same (no `value: undefined`).
  const text = JSON.stringify(result, null, 2);
  page.__result = JSON.parse(text);
  const element = page.document.getElementById("result");
  if (element !== null) element.textContent = text;
  page.document.documentElement.dataset.done = result.ok ? "ok" : "error";
}

async function run(): Promise<PageResult> {
  let nc;
  try {
    nc = await wsconnect({ servers, name: "eventsourced-browser" });
  } catch (error) {
    throw new Error(`Cannot reach NATS at ${servers}`, { cause: error });
  }
  try {
    const client = new EntityClient(nc, {
      cluster,
      entities: { counter: counterCommands },
      timeout,
    });
    const replies: unknown[] = [];
    replies.push(await client.send("counter", id, "increase", 5));
    replies.push(await client.send("counter", id, "increase", 7));
    replies.push(await client.send("counter", id, "decrease", 20));
    // A command sent twice with one id is applied once: the repeat gets the first answer
    // (kept by the host for a while) or, from a host that no longer has it, a duplicate.
    const once = { commandId: `${id}-d2` };
    replies.push(await client.send("counter", id, "decrease", 2, once));
    replies.push(await client.send("counter", id, "decrease", 2, once));
    replies.push(await client.send("counter", id, "get", undefined));

    // The read side needs no host: the events are read from JetStream directly.
    const eventLog = new NatsEventLog(nc, stream === null ? {} : { stream, subjectPrefix: stream });
    const reader = new EventReader(counter, {
      eventLog,
      binarize: jsonBinarize<CounterEvent, number>(),
    });
    const events: [number, CounterEvent][] = [];
    for await (const envelope of reader.eventsById(id)) {
      events.push([envelope.seqNo, envelope.event]);
    }
    const hosts = (await client.hosts()).map((host) => ({
      hostId: host.hostId,
      shards: host.types.counter?.shards.length ?? 0,
    }));
    return { ok: true, id, replies, events, hosts };
  } finally {
    await nc.close();
  }
}

run().then(show, (error: unknown) => {
  show({ ok: false, id, error: `Cannot run the counter via ${servers}: ${errorMessage(error)}` });
});
