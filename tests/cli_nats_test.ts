// The command-line tool on a nats-server started for this file, over WebSocket (ws://) and
// TCP (nats://): setup, listings, events, a live tail, an unreachable server, a missing
// stream.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { runCli } from "../cli/mod.ts";
import { freePort } from "./_servers/free_port.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import { cli, cliJson } from "./_cli_run.ts";
import { startCli } from "./_cli_child.ts";

let server: NatsTestServer;
let nc: NatsConnection;
let tcpUrl: string;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

before(async () => {
  server = await startNatsServer({ own: true });
  nc = await wsconnect({ servers: server.wsUrl });
  assert.ok(server.tcpUrl?.startsWith("nats://"), "the test server listens on TCP");
  tcpUrl = server.tcpUrl!;
}, { timeout: 60_000 });

after(async () => {
  await nc?.close();
  await server?.dispose();
}, { timeout: 60_000 });

test("setup creates the stream and buckets; types, ids and events read over ws:// and nats://", async () => {
  const before = await cli(["schema", server.wsUrl]);
  assert.equal(before.code, 1);
  assert.match(before.stdout, /^No schema/);
  const setup = await cli(["setup", server.wsUrl]);
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, /^Schema set up: version none -> \d+/);
  const log = new NatsEventLog(nc);
  await log.persist("account", "a.1", null, [json({ opened: 1 }), json({ deposited: 4 })], {
    metadata: { commandId: "c-1" },
    version: 3,
  });
  await log.persist("cart", "c 2", null, [new Uint8Array([1, 2, 3])]);
  for (const url of [server.wsUrl, tcpUrl]) {
    const types = await cliJson(["types", url]) as { typeName: string; events: number }[];
    assert.deepEqual(types.map((t) => [t.typeName, t.events]), [["account", 2], ["cart", 1]], url);
    assert.deepEqual(await cliJson(["ids", url, "account"]), ["a.1"], url);
    const events = await cliJson(["events", url, "account", "a.1"]) as Record<string, unknown>[];
    assert.deepEqual(events.map((e) => [e.seqNo, e.version, e.payload, e.metadata]), [
      [1, 3, { opened: 1 }, { commandId: "c-1" }],
      [2, 3, { deposited: 4 }, { commandId: "c-1" }],
    ], url);
    const [binary] = await cliJson(["events", url, "cart", "c 2"]) as Record<string, unknown>[];
    assert.deepEqual([binary!.encoding, binary!.payload], ["base64", "AQID"], url);
  }
  const verify = await cli(["verify", tcpUrl]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test("tail over nats:// follows a type live until the signal ends it", async () => {
  assert.equal((await cli(["setup", server.wsUrl])).code, 0);
  const log = new NatsEventLog(nc);
  const controller = new AbortController();
  let stdout = "";
  let stderr = "";
  let seen: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (seen = resolve));
  const done = runCli(["tail", tcpUrl, "order", "--json"], {
    stdout: { write: (text) => void (stdout += text, stdout.includes("o-9") && seen()) },
    stderr: { write: (text) => void (stderr += text) },
    signal: controller.signal,
  });
  while (!stderr.includes("Following")) await new Promise((r) => setTimeout(r, 20));
  await log.persist("order", "o-9", null, [json("placed")]);
  await arrived;
  controller.abort(new Error("Ctrl-C"));
  assert.equal(await done, 0, stderr);
  const [line] = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual([line.typeName, line.id, line.seqNo, line.payload], [
    "order",
    "o-9",
    1,
    "placed",
  ]);
});

test("an unreachable server is named by host and port, the token hidden", async () => {
  const port = await freePort();
  for (
    const url of [`nats://s3cr3t-token@127.0.0.1:${port}`, `ws://u:s3cr3t-token@127.0.0.1:${port}`]
  ) {
    const { code, stdout, stderr } = await cli(["types", url, "--timeout", "2000"]);
    assert.equal(code, 1, url);
    assert.equal(stdout, "");
    assert.match(stderr, new RegExp(`NATS at (ws://)?127\\.0\\.0\\.1:${port}`), url);
    assert.doesNotMatch(stderr, /s3cr3t/, url);
  }
});

test("a stream that was never set up says to run setup, and SQL names are refused", async () => {
  const missing = await cli([
    "types",
    server.wsUrl,
    "--stream",
    "nothing",
    "--subject-prefix",
    "nothing",
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /has no schema: run `eventsourced setup ws:\/\//);
  const foreign = await cli(["types", server.wsUrl, "--schema", "shop"]);
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /Invalid option schema for a nats store: it names SQL tables/);
});

test("the real entry's tail prints live events and exits 0 on SIGINT", async () => {
  assert.equal((await cli(["setup", server.wsUrl])).code, 0);
  const child = startCli(["tail", tcpUrl, "shipment", "--json"]);
  try {
    while (!child.stderr().includes("Following")) {
      if (child.process.exitCode !== null) assert.fail(`tail ended: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new NatsEventLog(nc).persist("shipment", "s-1", null, [json({ sent: true })]);
    while (!child.stdout().includes("s-1")) {
      if (child.process.exitCode !== null) assert.fail(`tail ended: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.process.kill("SIGINT");
    const code = await child.exited;
    assert.match(child.stderr(), /Stopped following "shipment"\n$/);
    // Deno's node:child_process reports a child that handled SIGINT and exited 0 as killed by
    // the signal (code null); the line above shows it ended through the tool's own path.
    const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
    if (!(isDeno && code === null)) assert.equal(code, 0, child.stderr());
    const [line] = child.stdout().trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual([line.id, line.payload], ["s-1", { sent: true }]);
  } finally {
    if (child.process.exitCode === null) child.process.kill("SIGKILL");
  }
});
