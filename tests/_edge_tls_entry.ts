// Bundled by tests/security_edge_tls_test.ts for workerd and for Chromium (platform browser, no
// Node built-ins): NatsEventLog over the runtime's own WebSocket, so `wss://` is verified by
// the runtime's TLS and trust store (workerd's config, the browser's certificate store).
// workerd serves the default export; the test page imports `persistNotes` and `readNotes`.

import { NatsEventLog } from "../adapters/nats/mod.ts";

/** What a call reports: the events it wrote or read as [seqNo, note], or why it failed. */
export type Outcome = { ok: true; events: [number, string][] } | { ok: false; error: string };

async function withLog(
  servers: string,
  work: (log: NatsEventLog) => Promise<[number, string][]>,
): Promise<Outcome> {
  let log: NatsEventLog;
  try {
    // A single attempt: a refused certificate must fail the call, not retry in the background.
    log = await NatsEventLog.connect({
      servers,
      name: "eventsourced-edge-tls",
      connectionOptions: { reconnect: false },
    });
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  try {
    return { ok: true, events: await work(log) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await log.close();
  }
}

/** Creates the stream if needed and appends `notes` to entity `note`/`id` after `after`. */
export function persistNotes(
  servers: string,
  id: string,
  after: number | null,
  notes: string[],
): Promise<Outcome> {
  return withLog(servers, async (log) => {
    await log.setup();
    const encoder = new TextEncoder();
    const bytes = notes.map((note) => encoder.encode(JSON.stringify({ note })));
    const last = await log.persist("note", id, after, bytes);
    return notes.map((note, i) => [last - notes.length + 1 + i, note]);
  });
}

/** Reads every event of entity `note`/`id`. */
export function readNotes(servers: string, id: string): Promise<Outcome> {
  return withLog(servers, async (log) => {
    const decoder = new TextDecoder();
    const events: [number, string][] = [];
    for await (const event of log.eventsById("note", id, 1)) {
      events.push([event.seqNo, JSON.parse(decoder.decode(event.bytes)).note]);
    }
    return events;
  });
}

/**
 * The Worker: `POST /persist?id=&after=&note=…` and `GET /read?id=`, over the NATS server in
 * the NATS_URL binding; 200 with the events, or 503 with the error.
 */
export default {
  async fetch(request: Request, env: { NATS_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get("id") ?? "";
    let outcome: Outcome;
    if (url.pathname === "/health") {
      outcome = { ok: true, events: [] };
    } else if (url.pathname === "/persist" && request.method === "POST") {
      const after = url.searchParams.get("after");
      const notes = url.searchParams.getAll("note");
      outcome = await persistNotes(env.NATS_URL, id, after ? Number(after) : null, notes);
    } else if (url.pathname === "/read") {
      outcome = await readNotes(env.NATS_URL, id);
    } else {
      return new Response(JSON.stringify({ ok: false, error: "Not found" }), { status: 404 });
    }
    return new Response(JSON.stringify(outcome), {
      status: outcome.ok ? 200 : 503,
      headers: { "content-type": "application/json" },
    });
  },
};
