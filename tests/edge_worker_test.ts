// The edge-worker example on real workerd in front of a real fleet: a nats-server, two counter
// hosts (examples/fleet/host.ts, as child processes on this test's runtime) and the stateless
// Worker, bundled with esbuild from the library's source and served by workerd from a copy of
// the example's config.capnp (ports, NATS URL and cluster filled in). The Worker holds no
// entity: every command goes through an EntityClient over NATS WebSocket to the host that owns
// the counter. The events are checked in JetStream.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { collect } from "../testing/mod.ts";
import { NatsEventLog } from "../adapters/nats/mod.ts";
import { type NatsTestServer, startNatsServer } from "./_servers/nats.ts";
import {
  binPath,
  buildExample,
  type Child,
  decodeJson,
  type FleetHost,
  freePort,
  join,
  lazy,
  repoPath,
  request,
  startChild,
  startFleetHost,
  stopGracefully,
  TEST_TIMEOUT,
  waitForHttp,
} from "./_edge_util.ts";

/**
 * The answer to a request sent again with the Idempotency-Key of one that was applied: the
 * first answer (kept by the owning host for a while), or 200 { id, duplicate: true }.
 */
function assertAnsweredOnce(
  reply: { status: number; body: Record<string, unknown> },
  first: Record<string, unknown>,
): void {
  const again = { status: 200, body: first };
  const duplicate = { status: 200, body: { id: first.id, duplicate: true } };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  assert.ok(same(reply, again) || same(reply, duplicate), JSON.stringify(reply));
}

const SHARDS = 8;
let nats: NatsTestServer;
let eventLog: NatsEventLog;
let dir: string;
const hosts = new Set<FleetHost>();
const children = new Set<Child>();
let base: string;
const run = Math.random().toString(36).slice(2, 8);
const cluster = `edge-${run}`;

function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  assert.equal(parts.length, 2, `config.capnp should contain ${from} once`);
  return parts.join(to);
}

/**
 * A copy of the example's config.capnp with the bundle, the port, NATS_URL and the cluster
 * filled in, and a command deadline of `timeout` ms.
 */
function writeConfig(
  name: string,
  port: number,
  natsUrl: string,
  clusterName = cluster,
  timeout = 10_000,
): string {
  let text = readFileSync(repoPath("examples", "edge-worker", "config.capnp"), "utf8");
  // capnp resolves embed paths from the config file's directory.
  text = replaceOnce(text, `embed "dist/worker.js"`, `embed "worker.js"`);
  text = replaceOnce(text, `"127.0.0.1:8787"`, `"127.0.0.1:${port}"`);
  text = replaceOnce(text, `"ws://127.0.0.1:8080"`, JSON.stringify(natsUrl));
  text = replaceOnce(
    text,
    `(name = "CLUSTER", text = "counters"),`,
    `(name = "CLUSTER", text = ${JSON.stringify(clusterName)}),\n` +
      `    (name = "COMMAND_TIMEOUT", text = "${timeout}"),`,
  );
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function startWorkerd(path: string, url: string): Promise<Child> {
  const child = startChild(binPath("workerd", process.env.WORKERD), ["serve", path, "--verbose"]);
  children.add(child);
  await waitForHttp(`${url}/health`, child);
  return child;
}

async function startHost(): Promise<FleetHost> {
  const host = await startFleetHost([
    "--nats",
    nats.tcpUrl!,
    "--cluster",
    cluster,
    "--shards",
    String(SHARDS),
  ]);
  hosts.add(host);
  return host;
}

async function stopHost(host: FleetHost): Promise<void> {
  hosts.delete(host);
  await stopGracefully(host.child);
}

const setup = lazy(async () => {
  nats = await startNatsServer({ own: true }); // restarted by a test
  eventLog = await NatsEventLog.connect({ servers: nats.wsUrl });
  await eventLog.setup();
  dir = mkdtempSync(join(tmpdir(), "eventsourced-workerd-"));
  const [, port] = await Promise.all([
    buildExample("edge-worker", join(dir, "worker.js")),
    freePort(),
  ]);
  // One host first, so the cluster's configuration is created once; then the second.
  await startHost();
  await startHost();
  base = `http://127.0.0.1:${port}`;
  await startWorkerd(writeConfig("config.capnp", port, nats.wsUrl), base);
});

after(async () => {
  await Promise.all([...hosts].map((host) => host.child.stop()));
  await Promise.all([...children].map((child) => child.stop()));
  await eventLog?.close();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the Worker bundle imports no Node built-ins", TEST_TIMEOUT, async () => {
  await setup();
  const bundle = readFileSync(join(dir, "worker.js"), "utf8");
  assert.doesNotMatch(bundle, /\bfrom\s*["']node:|\brequire\(["']node:|\bimport\(["']node:/);
  assert.match(bundle, /export\s*\{[^}]*\bas default\b/);
});

test(
  "the Worker increases, decreases and reads a counter through the hosts; JetStream holds its events",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-a`;
    const url = `${base}/counter/${id}`;
    assert.deepEqual(await request(`${url}/increase?by=5`, "POST"), {
      status: 200,
      body: { id, value: 5 },
    });
    assert.deepEqual(await request(`${url}/increase?by=7`, "POST"), {
      status: 200,
      body: { id, value: 12 },
    });
    assert.deepEqual(await request(`${url}/decrease?by=20`, "POST"), {
      status: 409,
      body: { id, error: "Underflow" },
    });
    assert.deepEqual(await request(`${url}/decrease?by=2`, "POST"), {
      status: 200,
      body: { id, value: 10 },
    });
    assert.deepEqual(await request(url), { status: 200, body: { id, value: 10 } });

    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3]);
    assert.deepEqual(decodeJson(events), [
      { type: "increased", by: 5 },
      { type: "increased", by: 7 },
      { type: "decreased", by: 2 },
    ]);
  },
);

test(
  "concurrent requests for one id reach its one owner: every increase lands once, seqNos dense",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-concurrent`;
    const replies = await Promise.all(
      Array.from({ length: 25 }, () => request(`${base}/counter/${id}/increase?by=1`, "POST")),
    );
    assert.ok(replies.every((r) => r.status === 200), JSON.stringify(replies));
    const values = replies.map((r) => r.body.value as number).sort((a, b) => a - b);
    assert.deepEqual(values, Array.from({ length: 25 }, (_, i) => i + 1));
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), values);
  },
);

test("counters of different ids are kept apart", TEST_TIMEOUT, async () => {
  await setup();
  const ids = Array.from({ length: 12 }, (_, i) => `w-${run}-apart-${i}`);
  const replies = await Promise.all(
    ids.map((id, i) => request(`${base}/counter/${id}/increase?by=${i + 1}`, "POST")),
  );
  assert.ok(replies.every((r) => r.status === 200), JSON.stringify(replies));
  for (const [i, id] of ids.entries()) {
    assert.deepEqual(await request(`${base}/counter/${id}`), {
      status: 200,
      body: { id, value: i + 1 },
    });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(decodeJson(events), [{ type: "increased", by: i + 1 }]);
  }
});

test(
  "a request sent again with the same Idempotency-Key is answered again, not applied twice",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-key`;
    const url = `${base}/counter/${id}/increase?by=4`;
    const key = { "idempotency-key": `${id}-once` };
    assert.deepEqual(await request(url, "POST", key), { status: 200, body: { id, value: 4 } });
    // The owner keeps recent answers by command id and gives the first one again; a host
    // that no longer has it (the counter moved, or it was long ago) answers { duplicate }.
    assertAnsweredOnce(await request(url, "POST", key), { id, value: 4 });
    assert.deepEqual(await request(url, "POST"), { status: 200, body: { id, value: 8 } });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => [e.seqNo, e.metadata?.commandId]), [
      [1, `${id}-once`],
      [2, events[1]?.metadata?.commandId],
    ]);
    assert.notEqual(events[1]?.metadata?.commandId, undefined, "the client gave it an id");
  },
);

test(
  "a write behind the owner's back fails no request: the host re-syncs and the client retries",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-shared`;
    const url = `${base}/counter/${id}`;
    assert.equal((await request(`${url}/increase?by=1`, "POST")).body.value, 1);
    // Another writer appends seqNo 2 behind the owning host's live entity.
    const bytes = new TextEncoder().encode(JSON.stringify({ type: "increased", by: 100 }));
    assert.equal(await eventLog.persist("counter", id, 1, [bytes]), 2);
    assert.deepEqual(await request(`${url}/increase?by=1`, "POST"), {
      status: 200,
      body: { id, value: 102 },
    });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3]);
    assert.deepEqual(decodeJson(events), [
      { type: "increased", by: 1 },
      { type: "increased", by: 100 },
      { type: "increased", by: 1 },
    ]);
  },
);

test("bad requests get 400, 404 or 405 and write nothing", TEST_TIMEOUT, async () => {
  await setup();
  const id = `w-${run}-bad`;
  assert.equal((await request(`${base}/counter/${id}/increase?by=abc`, "POST")).status, 400);
  assert.equal((await request(`${base}/counter/${id}/increase?by=-1`, "POST")).status, 400);
  assert.equal((await request(`${base}/counter/${id}/increase`, "GET")).status, 405);
  assert.equal((await request(`${base}/nothing`)).status, 404);
  const nul = await request(`${base}/counter/${encodeURIComponent("a\u0000b")}/increase`, "POST");
  assert.equal(nul.status, 400, JSON.stringify(nul.body));
  assert.equal(nul.body.reason, "invalid-id");
  const longKey = await request(`${base}/counter/${id}/increase`, "POST", {
    "idempotency-key": "x".repeat(300),
  });
  assert.equal(longKey.status, 400, JSON.stringify(longKey.body));
  assert.match(String(longKey.body.error), /commandId/);
  assert.equal(await eventLog.lastSeqNo("counter", id), null);
});

test(
  "GET /hosts shows the two hosts, each owning its own shards of the counter",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const reply = await request(`${base}/hosts`);
    assert.equal(reply.status, 200);
    const listed = reply.body.hosts as {
      hostId: string;
      types: Record<string, { shards: number[] }>;
    }[];
    assert.deepEqual(
      listed.map((h) => h.hostId).sort(),
      [...hosts].map((h) => h.hostId).sort(),
    );
    const owned = listed.flatMap((h) => h.types.counter?.shards ?? []);
    assert.equal(
      new Set(owned).size,
      owned.length,
      `a shard has two owners: ${JSON.stringify(listed)}`,
    );
    assert.ok(
      owned.every((s) => Number.isInteger(s) && s >= 0 && s < SHARDS),
      JSON.stringify(owned),
    );
  },
);

test(
  "when a host stops, the other takes its counters over from JetStream and no request fails",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const ids = Array.from({ length: 16 }, (_, i) => `w-${run}-handover-${i}`);
    const increaseAll = async () => {
      const replies = await Promise.all(
        ids.map((id) => request(`${base}/counter/${id}/increase?by=1`, "POST")),
      );
      assert.ok(replies.every((r) => r.status === 200), JSON.stringify(replies));
    };
    await increaseAll();
    const [leaving] = [...hosts];
    // Requests go on while the host hands its shards over.
    const stopping = stopHost(leaving!);
    for (let round = 0; round < 3; round++) await increaseAll();
    await stopping;
    await increaseAll();
    for (const id of ids) {
      assert.deepEqual(await request(`${base}/counter/${id}`), {
        status: 200,
        body: { id, value: 5 },
      });
      const events = await collect(eventLog.eventsById("counter", id, 1));
      assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3, 4, 5]);
    }
    const listed = (await request(`${base}/hosts`)).body.hosts as { hostId: string }[];
    assert.deepEqual(listed.map((h) => h.hostId), [...hosts].map((h) => h.hostId));
    await startHost(); // back to two hosts for the tests that follow
  },
);

test(
  "with no host in its cluster, the Worker answers 503 'unavailable' and writes nothing",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const config = writeConfig("empty.capnp", port, nats.wsUrl, `empty-${run}`, 1_000);
    const child = await startWorkerd(config, url);
    try {
      const id = `w-${run}-nobody`;
      const reply = await request(`${url}/counter/${id}/increase?by=1`, "POST");
      assert.equal(reply.status, 503, JSON.stringify(reply.body));
      assert.equal(reply.body.reason, "unavailable");
      assert.match(String(reply.body.error), /no host/);
      assert.equal(await eventLog.lastSeqNo("counter", id), null);
    } finally {
      await child.stop();
      children.delete(child);
    }
  },
);

test(
  "when nats-server cannot be reached, the Worker answers 503 with a clear message",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const port = await freePort();
    const unreachable = `ws://127.0.0.1:${await freePort()}`;
    const url = `http://127.0.0.1:${port}`;
    const child = await startWorkerd(writeConfig("unreachable.capnp", port, unreachable), url);
    try {
      const reply = await request(`${url}/counter/w-${run}-down/increase?by=1`, "POST");
      assert.equal(reply.status, 503, JSON.stringify(reply.body));
      assert.match(
        String(reply.body.error),
        new RegExp(`^Cannot reach NATS at ${unreachable}: \\w`),
      );
    } finally {
      await child.stop();
      children.delete(child);
    }
  },
);

test(
  "across a nats-server restart, a request retried with its Idempotency-Key lands exactly once",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-nats-restart`;
    const url = `${base}/counter/${id}`;
    assert.equal((await request(`${url}/increase?by=3`, "POST")).body.value, 3);
    await nats.stop();
    await nats.start();
    // The hosts reconnect on their own; until they serve again a request fails cleanly, and
    // the caller sends it again with the same key.
    const key = { "idempotency-key": `${id}-4` };
    const deadline = Date.now() + 60_000;
    const failures: unknown[] = [];
    let reply = await request(`${url}/increase?by=4`, "POST", key);
    while (reply.status !== 200 && Date.now() < deadline) {
      failures.push(reply);
      assert.ok([500, 503, 504].includes(reply.status), JSON.stringify(reply));
      await new Promise((resolve) => setTimeout(resolve, 250));
      reply = await request(`${url}/increase?by=4`, "POST", key);
    }
    assert.equal(reply.status, 200, JSON.stringify([...failures, reply]));
    // An earlier attempt may have landed with its answer lost: then this one is answered as
    // its repeat.
    assertAnsweredOnce(reply, { id, value: 7 });
    // This process's own connection reconnects on its own schedule: its read may time out
    // until it is back, which is not what this test is about.
    let events = await collect(eventLog.eventsById("counter", id, 1)).catch(() => undefined);
    while (events === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      events = await collect(eventLog.eventsById("counter", id, 1)).catch(() => undefined);
    }
    assert.ok(events !== undefined, "the test's own connection came back before the deadline");
    assert.deepEqual(decodeJson(events), [{ type: "increased", by: 3 }, {
      type: "increased",
      by: 4,
    }]);
    assert.deepEqual(await request(url), { status: 200, body: { id, value: 7 } });
  },
);
