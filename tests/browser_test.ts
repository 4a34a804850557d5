// The browser example in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) in front of a real fleet: a nats-server and a counter host
// (examples/fleet/host.ts, a child process on this test's runtime). The page loads an esbuild
// bundle of the EntityClient from a loopback static server, sends counter commands over NATS
// WebSocket to the host, reads the counter's events from JetStream and writes the outcome into
// the page; the test reads it and checks the events in JetStream.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { type Browser, chromium, type Page } from "playwright-core";
import { collect } from "../testing/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  buildExample,
  CHROMIUM,
  CHROMIUM_ARGS,
  decodeJson,
  type FleetHost,
  freePort,
  join,
  lazy,
  repoPath,
  serveStatic,
  startFleetHost,
  type StaticServer,
  stopGracefully,
  TEST_TIMEOUT,
} from "./_edge_util.ts";

let nats: NatsTestServer;
let eventLog: NatsEventLog;
let dir: string;
let site: StaticServer;
let browser: Browser;
let host: FleetHost | undefined;
const run = Math.random().toString(36).slice(2, 8);
const cluster = `browser-${run}`;

function startHost(): Promise<FleetHost> {
  return startFleetHost(["--nats", nats.tcpUrl!, "--cluster", cluster, "--shards", "4"]);
}

const setup = lazy(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run node scripts/ensure_system.mjs (npm test does), or set CHROMIUM`,
  );
  nats = await startNatsServer({ own: true }); // the host needs its TCP port
  host = await startHost();
  eventLog = await NatsEventLog.connect({ servers: nats.wsUrl });
  await eventLog.setup();
  dir = mkdtempSync(join(tmpdir(), "eventsourced-browser-"));
  const bundle = await buildExample("browser", join(dir, "app.js"));
  site = await serveStatic({
    "/": repoPath("examples", "browser", "index.html"),
    "/index.html": repoPath("examples", "browser", "index.html"),
    "/dist/app.js": bundle,
    "/dist/app.js.map": `${bundle}.map`,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [...CHROMIUM_ARGS],
  });
});

after(async () => {
  await host?.child.stop();
  await browser?.close();
  await site?.close();
  await eventLog?.close();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PageResult {
  ok: boolean;
  id: string;
  replies?: unknown[];
  events?: [number, unknown][];
  hosts?: { hostId: string; shards: number }[];
  error?: string;
}

/** Opens the page with `query` and returns what it wrote into `window.__result`. */
async function runPage(query: Record<string, string>): Promise<PageResult> {
  const page: Page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // nats-server before 2.10.24 answers the client's empty close frame with the reserved
    // status 1005, which Chromium logs when the page closes its connection
    // (nats-io/nats-server#6259); harmless, and not the library's doing.
    if (message.text().includes("broken close frame containing a reserved status code")) return;
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  try {
    await page.goto(`${site.url}/?${new URLSearchParams(query)}`, { timeout: 30_000 });
    await page.waitForFunction(
      () => (globalThis as { __result?: unknown }).__result !== undefined,
      undefined,
      { timeout: 60_000 },
    );
    const result = await page.evaluate(() =>
      (globalThis as { __result?: unknown }).__result
    ) as PageResult;
    const shown = await page.textContent("#result");
    assert.deepEqual(JSON.parse(shown ?? "null"), result, "the page shows what it reports");
    if (result.ok) assert.deepEqual(problems, []);
    return result;
  } finally {
    await page.close();
  }
}

const increased = (by: number) => ({ type: "increased", by });
const decreased = (by: number) => ({ type: "decreased", by });

test(
  "the page sends counter commands through the hosts over WebSocket and shows the replies",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-a`;
    const result = await runPage({ nats: nats.wsUrl, cluster, id });
    assert.equal(result.error, undefined);
    assert.deepEqual(result, {
      ok: true,
      id,
      replies: [
        { ok: true, value: 5 },
        { ok: true, value: 12 },
        { ok: false, error: "Underflow" },
        { ok: true, value: 10 },
        // The host keeps recent answers by command id: the repeat gets the first answer.
        { ok: true, value: 10 },
        { ok: true, value: 10 },
      ],
      events: [[1, increased(5)], [2, increased(7)], [3, decreased(2)]],
      hosts: [{ hostId: host!.hostId, shards: 4 }],
    });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3]);
    assert.deepEqual(decodeJson(events), [increased(5), increased(7), decreased(2)]);
    assert.equal(events[2]!.metadata?.commandId, `${id}-d2`);
  },
);

test(
  "after the host is replaced, the next page load finds the counter recovered from JetStream",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-again`;
    assert.deepEqual((await runPage({ nats: nats.wsUrl, cluster, id })).replies?.at(-1), {
      ok: true,
      value: 10,
    });
    const old = host!;
    host = undefined;
    await stopGracefully(old.child);
    host = await startHost();
    const result = await runPage({ nats: nats.wsUrl, cluster, id });
    assert.deepEqual(result.replies, [
      { ok: true, value: 15 },
      { ok: true, value: 22 },
      { ok: true, value: 2 },
      // The new host knows the command id of the first load's "decrease 2" from the log (it
      // has no answer kept for it): a duplicate of event 3, nothing written.
      { ok: true, duplicate: true, seqNo: 3 },
      { ok: true, duplicate: true, seqNo: 3 },
      { ok: true, value: 2 },
    ]);
    assert.deepEqual(result.hosts, [{ hostId: host.hostId, shards: 4 }]);
    assert.notEqual(host.hostId, old.hostId);
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(decodeJson(events).slice(3), [increased(5), increased(7), decreased(20)]);
  },
);

test(
  "the host recovers events that another client wrote to JetStream before the page's commands",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-shared`;
    const bytes = new TextEncoder().encode(JSON.stringify(increased(30)));
    assert.equal(await eventLog.persist("counter", id, null, [bytes]), 1);
    const result = await runPage({ nats: nats.wsUrl, cluster, id });
    assert.deepEqual(result.replies, [
      { ok: true, value: 35 },
      { ok: true, value: 42 },
      { ok: true, value: 22 },
      { ok: true, value: 20 },
      { ok: true, value: 20 },
      { ok: true, value: 20 },
    ]);
    assert.deepEqual(result.events?.[0], [1, increased(30)]);
    assert.equal(result.events?.length, 5);
  },
);

test(
  "the page reports a clear error when nats-server cannot be reached",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const result = await runPage({ nats: url, cluster, id: `b-${run}-down` });
    assert.equal(result.ok, false);
    assert.match(
      result.error ?? "",
      new RegExp(`^Cannot run the counter via ${url.replaceAll(".", "\\.")}: Cannot reach NATS`),
    );
  },
);

test(
  "the page reports 'no host' when its cluster has none, and nothing is written",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-nobody`;
    const result = await runPage({
      nats: nats.wsUrl,
      cluster: `empty-${run}`,
      id,
      timeout: "1000",
    });
    assert.equal(result.ok, false);
    assert.match(result.error ?? "", /no host/);
    assert.equal(await eventLog.lastSeqNo("counter", id), null);
  },
);
