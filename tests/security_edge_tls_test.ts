// workerd and headless Chromium reach nats-server over wss:// with a private CA, each trusting
// it the way that runtime lets one: workerd through its config (the network service's
// tlsOptions.trustedCertificates), Chromium through an NSS database in the user's HOME
// (certutil), as on a user's machine. The fixture tests/_edge_tls_entry.ts is bundled with
// esbuild and runs in both; what the Worker writes the page reads back, and the other way
// round. Without the CA, against a server signed by another CA, or against a certificate for
// another host name, the connection is refused.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { type Browser, chromium } from "playwright-core";
import { makeCertificates, type TestCertificates } from "./_servers/certificates.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  binPath,
  type Child,
  CHROMIUM,
  CHROMIUM_ARGS,
  freePort,
  join,
  lazy,
  repoPath,
  request,
  serveStatic,
  startChild,
  type StaticServer,
  TEST_TIMEOUT,
  waitForHttp,
} from "./_edge_util.ts";
import type { Outcome } from "./_edge_tls_entry.ts";

const CERTUTIL = process.env.CERTUTIL ?? "/usr/bin/certutil";
const run = Math.random().toString(36).slice(2, 8);

let certs: TestCertificates;
let dir: string;
/** Signed by the test CA for 127.0.0.1. */
let nats: NatsTestServer;
/** Signed by a CA nobody trusts. */
let stranger: NatsTestServer;
/** Signed by the test CA, but for another host name. */
let wrongHost: NatsTestServer;
const children = new Set<Child>();
const browsers = new Set<Browser>();
let site: StaticServer | undefined;

/** Runs `command`; resolves with its stdout, rejects with its stderr. */
function execFileText(command: string, args: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args[0]} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** The fixture as one ES module for workerd and browsers (no Node built-ins). */
async function bundle(outfile: string): Promise<void> {
  await execFileText(binPath("esbuild"), [
    repoPath("tests", "_edge_tls_entry.ts"),
    "--bundle",
    "--format=esm",
    "--platform=browser",
    "--conditions=workerd,worker,browser",
    "--target=es2022",
    `--outfile=${outfile}`,
  ]);
}

const servers = lazy(async () => {
  certs = makeCertificates();
  dir = mkdtempSync(join(tmpdir(), "eventsourced-edge-tls-"));
  [nats, stranger, wrongHost] = await Promise.all([
    startNatsServer({ tls: certs.server }),
    startNatsServer({ tls: certs.untrusted }),
    startNatsServer({ tls: certs.wrongHost }),
  ]);
  await bundle(join(dir, "entry.js"));
});

after(async () => {
  await Promise.all([...browsers].map((browser) => browser.close()));
  await Promise.all([...children].map((child) => child.stop()));
  await site?.close();
  await nats?.dispose();
  await stranger?.dispose();
  await wrongHost?.dispose();
  certs?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// --- workerd -------------------------------------------------------------------------------

/** One Worker of the workerd config: its port, the NATS URL it uses, its network's TLS. */
interface WorkerSpec {
  name: string;
  port: number;
  natsUrl: string;
  /** capnp TlsOptions of the Worker's outbound network. */
  tlsOptions: string;
}

function workerdConfig(workers: WorkerSpec[]): string {
  const services = workers.flatMap((w) => [
    `    (name = "${w.name}", worker = (`,
    `      modules = [(name = "worker.js", esModule = embed "entry.js")],`,
    `      compatibilityDate = "2025-09-01",`,
    `      bindings = [(name = "NATS_URL", text = ${JSON.stringify(w.natsUrl)})],`,
    `      globalOutbound = "${w.name}-network")),`,
    `    (name = "${w.name}-network", network = (`,
    `      allow = ["local"],`,
    `      tlsOptions = ${w.tlsOptions})),`,
  ]);
  const sockets = workers.map((w) =>
    `    (name = "${w.name}", address = "127.0.0.1:${w.port}", http = (), service = "${w.name}"),`
  );
  return [
    `using Workerd = import "/workerd/workerd.capnp";`,
    `const config :Workerd.Config = (`,
    `  services = [`,
    ...services,
    `  ],`,
    `  sockets = [`,
    ...sockets,
    `  ],`,
    `);`,
    ``,
  ].join("\n");
}

const worker = lazy(async () => {
  await servers();
  // capnp resolves embed paths from the config file's directory.
  copyFileSync(certs.caFile, join(dir, "ca.pem"));
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(await freePort());
  const [trusting, toStranger, toWrongHost, publicOnly] = [...ports] as number[] as [
    number,
    number,
    number,
    number,
  ];
  // The README's configuration: the public CAs and this one.
  const trustCa = `(trustBrowserCas = true, trustedCertificates = [embed "ca.pem"])`;
  const config = join(dir, "config.capnp");
  writeFileSync(
    config,
    workerdConfig([
      { name: "trusting", port: trusting, natsUrl: nats.wsUrl, tlsOptions: trustCa },
      { name: "stranger", port: toStranger, natsUrl: stranger.wsUrl, tlsOptions: trustCa },
      { name: "wronghost", port: toWrongHost, natsUrl: wrongHost.wsUrl, tlsOptions: trustCa },
      // What a config made for the public edge trusts: the CAs browsers trust, not ours.
      {
        name: "public",
        port: publicOnly,
        natsUrl: nats.wsUrl,
        tlsOptions: `(trustBrowserCas = true)`,
      },
    ]),
  );
  const child = startChild(binPath("workerd", process.env.WORKERD), ["serve", config]);
  children.add(child);
  const urls = {
    trusting: `http://127.0.0.1:${trusting}`,
    stranger: `http://127.0.0.1:${toStranger}`,
    wrongHost: `http://127.0.0.1:${toWrongHost}`,
    publicOnly: `http://127.0.0.1:${publicOnly}`,
    child,
  };
  for (const base of [urls.trusting, urls.stranger, urls.wrongHost, urls.publicOnly]) {
    await waitForHttp(`${base}/health`, child);
  }
  return urls;
});

async function workerCall(base: string, path: string, method = "GET") {
  const reply = await request(`${base}${path}`, method);
  return { status: reply.status, body: reply.body as unknown as Outcome };
}

// --- Chromium ------------------------------------------------------------------------------

/**
 * A headless Chromium whose HOME is a new temporary folder; with `trustCa`, the folder's NSS
 * database (~/.pki/nssdb, where Chromium on Linux reads the user's certificates) holds the
 * test CA as trusted for servers.
 */
async function launchChromium(trustCa: boolean): Promise<Browser> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: run node scripts/ensure_system.mjs (npm test does), or set CHROMIUM`,
  );
  const home = mkdtempSync(join(dir, "home-"));
  if (trustCa) {
    assert.ok(
      existsSync(CERTUTIL),
      `${CERTUTIL} is missing: run node scripts/ensure_system.mjs (Debian's libnss3-tools), ` +
        `or set CERTUTIL`,
    );
    const db = join(home, ".pki", "nssdb");
    mkdirSync(db, { recursive: true });
    await execFileText(CERTUTIL, ["-N", "-d", `sql:${db}`, "--empty-password"]);
    // "C,,": a CA trusted to issue server certificates (not mail or code signing).
    await execFileText(CERTUTIL, [
      "-A",
      "-d",
      `sql:${db}`,
      "-n",
      "eventsourced test CA",
      "-t",
      "C,,",
      "-i",
      certs.caFile,
    ]);
    const listed = await execFileText(CERTUTIL, ["-L", "-d", `sql:${db}`]);
    assert.match(listed, /eventsourced test CA\s+C,,/);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    env: { ...process.env as Record<string, string>, HOME: home },
    args: [...CHROMIUM_ARGS],
  });
  browsers.add(browser);
  return browser;
}

const page = lazy(async () => {
  await servers();
  // The page puts the fixture's exports on `window.entry` for the test to call.
  writeFileSync(
    join(dir, "index.html"),
    `<!doctype html><title>edge tls</title>\n` +
      `<script type="module">import * as entry from "/entry.js"; window.entry = entry;</script>\n`,
  );
  site = await serveStatic({
    "/": join(dir, "index.html"),
    "/entry.js": join(dir, "entry.js"),
  });
  const [trusting, untrusting] = await Promise.all([launchChromium(true), launchChromium(false)]);
  return { trusting, untrusting };
});

/**
 * Opens the test page in `browser`, runs the fixture's `call` there and returns its outcome
 * and the page's console lines (where Chromium names a refused certificate: the WebSocket
 * API itself tells a page only that the connection failed).
 */
async function inPage(
  browser: Browser,
  call: "persistNotes" | "readNotes",
  args: unknown[],
): Promise<{ outcome: Outcome; console: string[] }> {
  const tab = await browser.newPage();
  const lines: string[] = [];
  tab.on("console", (message) => lines.push(message.text()));
  try {
    await tab.goto(`${site!.url}/`, { timeout: 30_000 });
    type Page = { entry?: Record<string, (...args: unknown[]) => Promise<Outcome>> };
    await tab.waitForFunction(() => (globalThis as Page).entry !== undefined, undefined, {
      timeout: 30_000,
    });
    const outcome = await tab.evaluate(
      ([call, args]) => (globalThis as Page).entry![call]!(...args),
      [call, args] as const,
    );
    return { outcome, console: lines };
  } finally {
    await tab.close();
  }
}

/** Chromium logged that it refused the server's certificate with `code`. */
function assertCertificateRefused(
  console: string[],
  code = "ERR_CERT_AUTHORITY_INVALID",
): void {
  assert.ok(
    console.some((line) => line.includes(`net::${code}`)),
    `no ${code} in the page's console:\n${console.join("\n")}`,
  );
}

/**
 * Waits (bounded) until workerd's log, after its first `from` characters, names a refused
 * certificate: the Worker's WebSocket error itself does not say why.
 */
async function workerdLogsRefusal(
  child: Child,
  from: number,
  why = "UnknownIssuer",
): Promise<void> {
  const line = `TLS handshake failed: invalid peer certificate: ${why}`;
  const deadline = Date.now() + 10_000;
  while (!child.output().slice(from).includes(line)) {
    if (Date.now() > deadline) {
      assert.fail(`workerd logged no refused certificate:\n${child.output().slice(from)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The message of a refused wss:// connection, as NatsEventLog.connect reports it. */
function refusal(url: string): RegExp {
  return new RegExp(`^Cannot connect to NATS at ${url.replaceAll(".", "\\.")}: \\w`);
}

// --- tests ---------------------------------------------------------------------------------

test(
  "a Worker whose network trusts the CA persists events over wss:// and reads them back",
  TEST_TIMEOUT,
  async () => {
    const { trusting } = await worker();
    const id = `w-${run}`;
    assert.deepEqual(await workerCall(trusting, `/persist?id=${id}&note=a&note=b`, "POST"), {
      status: 200,
      body: { ok: true, events: [[1, "a"], [2, "b"]] },
    });
    // A new request, a new connection: the events come back from JetStream.
    assert.deepEqual(await workerCall(trusting, `/persist?id=${id}&after=2&note=c`, "POST"), {
      status: 200,
      body: { ok: true, events: [[3, "c"]] },
    });
    assert.deepEqual(await workerCall(trusting, `/read?id=${id}`), {
      status: 200,
      body: { ok: true, events: [[1, "a"], [2, "b"], [3, "c"]] },
    });
  },
);

test(
  "a Worker whose network trusts only public CAs cannot connect, and says so",
  TEST_TIMEOUT,
  async () => {
    const { publicOnly, child } = await worker();
    const from = child.output().length;
    const reply = await workerCall(publicOnly, `/read?id=w-${run}`);
    assert.equal(reply.status, 503, JSON.stringify(reply.body));
    assert.match(reply.body.ok ? "" : reply.body.error, refusal(nats.wsUrl));
    await workerdLogsRefusal(child, from);
  },
);

test(
  "a Worker that trusts the CA refuses a server whose certificate another CA signed",
  TEST_TIMEOUT,
  async () => {
    const { stranger: base, child } = await worker();
    const from = child.output().length;
    const reply = await workerCall(base, `/persist?id=w-${run}-stranger&note=x`, "POST");
    assert.equal(reply.status, 503, JSON.stringify(reply.body));
    assert.match(reply.body.ok ? "" : reply.body.error, refusal(stranger.wsUrl));
    await workerdLogsRefusal(child, from);
  },
);

test(
  "a Worker that trusts the CA refuses its certificate for another host name",
  TEST_TIMEOUT,
  async () => {
    const { wrongHost: base, child } = await worker();
    const from = child.output().length;
    const reply = await workerCall(base, `/persist?id=w-${run}-wrong-host&note=x`, "POST");
    assert.equal(reply.status, 503, JSON.stringify(reply.body));
    assert.match(reply.body.ok ? "" : reply.body.error, refusal(wrongHost.wsUrl));
    await workerdLogsRefusal(child, from, `certificate not valid for name "127.0.0.1"`);
  },
);

test(
  "Chromium with the CA in its NSS database reads what the Worker wrote and writes over wss://",
  TEST_TIMEOUT,
  async () => {
    const { trusting: base } = await worker();
    const { trusting } = await page();
    const id = `b-${run}`;
    assert.equal(
      (await workerCall(base, `/persist?id=${id}&note=from-worker`, "POST")).status,
      200,
    );
    assert.deepEqual((await inPage(trusting, "readNotes", [nats.wsUrl, id])).outcome, {
      ok: true,
      events: [[1, "from-worker"]],
    });
    const written = await inPage(trusting, "persistNotes", [nats.wsUrl, id, 1, ["from-page"]]);
    assert.deepEqual(written.outcome, { ok: true, events: [[2, "from-page"]] });
    assert.deepEqual(await workerCall(base, `/read?id=${id}`), {
      status: 200,
      body: { ok: true, events: [[1, "from-worker"], [2, "from-page"]] },
    });
  },
);

test(
  "Chromium without the CA cannot connect over wss://, and writes nothing",
  TEST_TIMEOUT,
  async () => {
    const { trusting: base } = await worker();
    const { untrusting } = await page();
    const id = `b-${run}-untrusting`;
    const { outcome, console } = await inPage(untrusting, "persistNotes", [
      nats.wsUrl,
      id,
      null,
      ["x"],
    ]);
    assert.match(outcome.ok ? "" : outcome.error, refusal(nats.wsUrl));
    assertCertificateRefused(console);
    assert.deepEqual(await workerCall(base, `/read?id=${id}`), {
      status: 200,
      body: { ok: true, events: [] },
    });
  },
);

test(
  "Chromium with the CA refuses a server whose certificate another CA signed",
  TEST_TIMEOUT,
  async () => {
    const { trusting } = await page();
    const { outcome, console } = await inPage(trusting, "readNotes", [stranger.wsUrl, `b-${run}`]);
    assert.match(outcome.ok ? "" : outcome.error, refusal(stranger.wsUrl));
    assertCertificateRefused(console);
  },
);

test(
  "Chromium with the CA refuses its certificate for another host name",
  TEST_TIMEOUT,
  async () => {
    const { trusting } = await page();
    const { outcome, console } = await inPage(trusting, "readNotes", [wrongHost.wsUrl, `b-${run}`]);
    assert.match(outcome.ok ? "" : outcome.error, refusal(wrongHost.wsUrl));
    assertCertificateRefused(console, "ERR_CERT_COMMON_NAME_INVALID");
  },
);
