// The browser example: the core and the NATS adapter, bundled for the browser by build.mjs,
// run counter commands against nats-server over WebSocket and write what they got into the
// page (the <pre id="result"> element and `window.__result`, which the test reads).
//
// The page takes its settings from the query string:
//   nats   the WebSocket URL of nats-server (default ws://127.0.0.1:8080)
//   id     the counter's id (default: a random one)
//   stream, prefix   JetStream stream and subject prefix (default "eventsourced")

import { EntityRegistry, EventReader, jsonBinarize } from "../../mod.ts";
import { NatsEventLog } from "../../adapters/nats/mod.ts";
import { counter, type CounterEvent, decrease, get, increase } from "../edge-worker/counter.ts";
import { errorMessage } from "../edge-worker/routes.ts";

/** What the page reports, as JSON. */
export interface PageResult {
  ok: boolean;
  id: string;
  /** The replies, in order, of: increase 5, increase 7, decrease 20, decrease 2, get. */
  replies?: unknown[];
  /** The counter's value after a fresh recovery from the log. */
  recovered?: number;
  /** The events read back with an EventReader: [seqNo, event]. */
  events?: [number, CounterEvent][];
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
const id = params.get("id") ?? `browser-${crypto.randomUUID()}`;
const stream = params.get("stream");
const prefix = params.get("prefix");

function show(result: PageResult): void {
  page.__result = result;
  const element = page.document.getElementById("result");
  if (element !== null) element.textContent = JSON.stringify(result, null, 2);
  page.document.documentElement.dataset.done = result.ok ? "ok" : "error";
}

async function run(): Promise<PageResult> {
  const eventLog = await NatsEventLog.connect({
    servers,
    name: "eventsourced-browser",
    ...(stream === null ? {} : { stream }),
    ...(prefix === null ? {} : { subjectPrefix: prefix }),
  });
  try {
    await eventLog.setup();
    const binarize = jsonBinarize<CounterEvent, number>();
    const replies: unknown[] = [];
    const counters = new EntityRegistry(counter, { eventLog, binarize });
    try {
      for (const command of [increase(5), increase(7), decrease(20), decrease(2), get]) {
        replies.push(await counters.handleCommand(id, command));
      }
    } finally {
      await counters.close();
    }
    // A second registry recovers the counter from the log alone.
    const again = new EntityRegistry(counter, { eventLog, binarize });
    let recovered: number;
    try {
      const result = await again.handleCommand(id, get);
      if (!result.ok) throw new Error("get was rejected");
      recovered = result.value;
    } finally {
      await again.close();
    }
    const events: [number, CounterEvent][] = [];
    const reader = new EventReader(counter, { eventLog, binarize });
    for await (const envelope of reader.eventsById(id)) {
      events.push([envelope.seqNo, envelope.event]);
    }
    return { ok: true, id, replies, recovered, events };
  } finally {
    await eventLog.close();
  }
}

run().then(show, (error: unknown) => {
  show({ ok: false, id, error: `Cannot run the counter on ${servers}: ${errorMessage(error)}` });
});
