// The browser example in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against a real nats-server: the page loads an esbuild bundle of the core
// and the NATS adapter from a loopback static server, runs counter commands over WebSocket
// and writes the outcome into the page; the test reads it and checks the events in JetStream.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { type Browser, chromium, type Page } from "playwright-core";
import { collect } from "../testing/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  buildExample,
  decodeJson,
  freePort,
  join,
  lazy,
  repoPath,
  serveStatic,
  type StaticServer,
  TEST_TIMEOUT,
} from "./_edge_util.ts";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let nats: NatsTestServer;
let eventLog: NatsEventLog;
let dir: string;
let site: StaticServer;
let browser: Browser;
const run = Math.random().toString(36).slice(2, 8);

const setup = lazy(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run node scripts/ensure_system.mjs (npm test does), or set CHROMIUM`,
  );
  nats = await startNatsServer();
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
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
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
  recovered?: number;
  events?: [number, unknown][];
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
      {
        timeout: 30_000,
      },
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
  "the page runs counter commands against NATS over WebSocket and shows the replies",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-a`;
    const result = await runPage({ nats: nats.wsUrl, id });
    assert.equal(result.error, undefined);
    assert.deepEqual(result, {
      ok: true,
      id,
      replies: [
        { ok: true, value: 5 },
        { ok: true, value: 12 },
        { ok: false, error: "Underflow" },
        { ok: true, value: 10 },
        { ok: true, value: 10 },
      ],
      recovered: 10,
      events: [[1, increased(5)], [2, increased(7)], [3, decreased(2)]],
    });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3]);
    assert.deepEqual(decodeJson(events), [increased(5), increased(7), decreased(2)]);
  },
);

test(
  "a second page load recovers the counter from JetStream and goes on from there",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-again`;
    assert.equal((await runPage({ nats: nats.wsUrl, id })).recovered, 10);
    const result = await runPage({ nats: nats.wsUrl, id });
    assert.deepEqual(result.replies, [
      { ok: true, value: 15 },
      { ok: true, value: 22 },
      { ok: true, value: 2 },
      { ok: true, value: 0 },
      { ok: true, value: 0 },
    ]);
    assert.equal(result.recovered, 0);
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(decodeJson(events).slice(3), [
      increased(5),
      increased(7),
      decreased(20),
      decreased(2),
    ]);
  },
);

test(
  "the page reads back events that another client wrote to JetStream",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `b-${run}-shared`;
    const bytes = new TextEncoder().encode(JSON.stringify(increased(30)));
    assert.equal(await eventLog.persist("counter", id, null, [bytes]), 1);
    const result = await runPage({ nats: nats.wsUrl, id });
    assert.deepEqual(result.replies?.slice(0, 2), [{ ok: true, value: 35 }, {
      ok: true,
      value: 42,
    }]);
    assert.equal(result.recovered, 20);
    assert.deepEqual(result.events?.[0], [1, increased(30)]);
  },
);

test(
  "the page reports a clear error when nats-server cannot be reached",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const port = await freePort();
    const result = await runPage({ nats: `ws://127.0.0.1:${port}`, id: `b-${run}-down` });
    assert.equal(result.ok, false);
    assert.match(
      result.error ?? "",
      new RegExp(`^Cannot run the counter on ws://127\\.0\\.0\\.1:${port}: \\w`),
    );
  },
);
