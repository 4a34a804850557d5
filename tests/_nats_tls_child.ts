// A child process of the wss:// tests: it starts with the way of trusting the test CA that is
// under test (a runtime flag, an environment variable, or the config below), connects with
// `NatsEventLog.connect` and its default reconnect settings to each server of its config, writes
// and reads an event where the connect succeeds, and prints one JSON line per server.
// Trust set at process start cannot be undone, so each way runs in a process of its own.

import process from "node:process";
import { readFileSync } from "node:fs";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { isStorageError } from "../src/errors.ts";
import { uniqueTypeName } from "../testing/mod.ts";

/** What the parent asks of the child, in the environment variable NATS_TLS_CHILD. */
export interface ChildConfig {
  /** The servers to connect to, each by a label that the output repeats. */
  readonly servers: Readonly<Record<string, string>>;
  /** Bun: build each WebSocket with `tls: { ca }` from this file, through `wsFactory`. */
  readonly bunWebSocketCaFile?: string;
  /** Node 22.19+/24.5+: add this file's CA to Node's default trust in the process. */
  readonly nodeDefaultCaFile?: string;
}

/** One line of the child's output. */
export type ChildResult =
  | { label: string; ok: true; events: number }
  | { label: string; ok: false; name: string; reason?: string; message: string };

const config = JSON.parse(process.env.NATS_TLS_CHILD ?? "{}") as ChildConfig;

if (config.nodeDefaultCaFile !== undefined) {
  // Node 22.19 and 24.5 added these; the Node 20 types the project builds with lack them.
  const tls = await import("node:tls") as unknown as {
    getCACertificates(which: "default"): string[];
    setDefaultCACertificates(certificates: string[]): void;
  };
  const ca = readFileSync(config.nodeDefaultCaFile, "utf8");
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), ca]);
}

// Bun's WebSocket takes TLS options as a second argument; the standard type does not know it.
type BunWebSocket = new (url: string, options: { tls: { ca: string } }) => WebSocket;
const bunCa = config.bunWebSocketCaFile === undefined
  ? undefined
  : readFileSync(config.bunWebSocketCaFile, "utf8");
const wsFactory = bunCa === undefined ? undefined : (url: string) =>
  Promise.resolve({
    socket: new (WebSocket as unknown as BunWebSocket)(url, { tls: { ca: bunCa } }),
    encrypted: url.startsWith("wss:"),
  });

async function attempt(label: string, url: string): Promise<ChildResult> {
  let log: NatsEventLog;
  try {
    log = await NatsEventLog.connect({ servers: url, ...(wsFactory ? { wsFactory } : {}) });
  } catch (error) {
    const e = error as Error;
    return {
      label,
      ok: false,
      name: e.name,
      ...(isStorageError(error) ? { reason: error.reason } : {}),
      message: e.message,
    };
  }
  try {
    await log.setup();
    const type = uniqueTypeName();
    await log.persist(type, "a", null, [new TextEncoder().encode("over tls")]);
    let events = 0;
    for await (const event of log.eventsById(type, "a", 1)) {
      if (new TextDecoder().decode(event.bytes) === "over tls") events++;
    }
    return { label, ok: true, events };
  } finally {
    await log.close();
  }
}

for (const [label, url] of Object.entries(config.servers)) {
  console.log(JSON.stringify(await attempt(label, url)));
}
process.exit(0);
