// The edge-worker example on real workerd against a real nats-server: the Worker bundle is
// built with esbuild from the library's source, workerd serves it from a copy of the example's
// config.capnp (ports and NATS URL filled in), and the events the Worker wrote are checked in
// JetStream.

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
  freePort,
  join,
  lazy,
  repoPath,
  request,
  startChild,
  TEST_TIMEOUT,
  waitForHttp,
} from "./_edge_util.ts";

let nats: NatsTestServer;
let eventLog: NatsEventLog;
let dir: string;
let workerd: Child | undefined;
const children = new Set<Child>();
let base: string;
let config: string;
const run = Math.random().toString(36).slice(2, 8);

function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  assert.equal(parts.length, 2, `config.capnp should contain ${from} once`);
  return parts.join(to);
}

/** A copy of the example's config.capnp with the bundle, the port and NATS_URL filled in. */
function writeConfig(name: string, port: number, natsUrl: string): string {
  let text = readFileSync(repoPath("examples", "edge-worker", "config.capnp"), "utf8");
  // capnp resolves embed paths from the config file's directory.
  text = replaceOnce(text, `embed "dist/worker.js"`, `embed "worker.js"`);
  text = replaceOnce(text, `"127.0.0.1:8787"`, `"127.0.0.1:${port}"`);
  text = replaceOnce(text, `"ws://127.0.0.1:8080"`, JSON.stringify(natsUrl));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function startWorkerd(path = config, url = base): Promise<Child> {
  const child = startChild(binPath("workerd", process.env.WORKERD), ["serve", path, "--verbose"]);
  children.add(child);
  await waitForHttp(`${url}/health`, child);
  return child;
}

const setup = lazy(async () => {
  nats = await startNatsServer({ own: true }); // restarted by a test
  eventLog = await NatsEventLog.connect({ servers: nats.wsUrl });
  await eventLog.setup();
  dir = mkdtempSync(join(tmpdir(), "eventsourced-workerd-"));
  await buildExample("edge-worker", join(dir, "worker.js"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  config = writeConfig("config.capnp", port, nats.wsUrl);
  workerd = await startWorkerd();
});

after(async () => {
  await Promise.all([...children].map((child) => child.stop()));
  await eventLog?.close();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the Worker bundle imports no Node built-ins", TEST_TIMEOUT, async () => {
  await setup();
  const bundle = readFileSync(join(dir, "worker.js"), "utf8");
  assert.doesNotMatch(bundle, /\bfrom\s*["']node:|\brequire\(["']node:|\bimport\(["']node:/);
  assert.match(bundle, /export\s*\{[^}]*\bCounters\b/);
});

test(
  "the Worker increases, decreases and reads a counter, and JetStream holds its events",
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
  "concurrent requests for one id go to one live entity: every increase lands once, seqNos dense",
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
  const ids = [`w-${run}-x`, `w-${run}-y`, `w-${run}-z`];
  await Promise.all(
    ids.map((id, i) => request(`${base}/counter/${id}/increase?by=${i + 1}`, "POST")),
  );
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
  "a write by another process makes the Worker's next command fail clearly, then it re-syncs",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-shared`;
    const url = `${base}/counter/${id}`;
    assert.equal((await request(`${url}/increase?by=1`, "POST")).body.value, 1);
    // Another writer appends seqNo 2 behind the Worker's live entity.
    const bytes = new TextEncoder().encode(JSON.stringify({ type: "increased", by: 100 }));
    assert.equal(await eventLog.persist("counter", id, 1, [bytes]), 2);
    const failed = await request(`${url}/increase?by=1`, "POST");
    assert.equal(failed.status, 500, JSON.stringify(failed.body));
    assert.match(String(failed.body.error), /counter\/w-/);
    // The entity has re-synced from the log: it sees the other writer's event.
    assert.deepEqual(await request(`${url}/increase?by=1`, "POST"), {
      status: 200,
      body: { id, value: 102 },
    });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2, 3]);
  },
);

test("bad requests get 400 or 404 and write nothing", TEST_TIMEOUT, async () => {
  await setup();
  const id = `w-${run}-bad`;
  assert.equal((await request(`${base}/counter/${id}/increase?by=abc`, "POST")).status, 400);
  assert.equal((await request(`${base}/counter/${id}/increase?by=-1`, "POST")).status, 400);
  assert.equal((await request(`${base}/counter/${id}/increase`, "GET")).status, 405);
  assert.equal((await request(`${base}/nothing`)).status, 404);
  assert.equal(await eventLog.lastSeqNo("counter", id), null);
});

test(
  "after workerd restarts, the Worker recovers a counter from JetStream",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-restart`;
    const url = `${base}/counter/${id}`;
    assert.equal((await request(`${url}/increase?by=40`, "POST")).body.value, 40);
    await workerd?.stop();
    await startWorkerd();
    assert.deepEqual(await request(url), { status: 200, body: { id, value: 40 } });
    assert.deepEqual(await request(`${url}/increase?by=2`, "POST"), {
      status: 200,
      body: { id, value: 42 },
    });
    const events = await collect(eventLog.eventsById("counter", id, 1));
    assert.deepEqual(events.map((e) => e.seqNo), [1, 2]);
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
  "after nats-server restarts, the Worker reconnects and its counters go on",
  TEST_TIMEOUT,
  async () => {
    await setup();
    const id = `w-${run}-nats-restart`;
    const url = `${base}/counter/${id}`;
    assert.equal((await request(`${url}/increase?by=3`, "POST")).body.value, 3);
    await nats.stop();
    await nats.start();
    // The Worker's connection reconnects on its own; until then a command may fail cleanly.
    const deadline = Date.now() + 60_000;
    let reply = await request(`${url}/increase?by=4`, "POST");
    const failures: unknown[] = [];
    while (reply.status !== 200 && Date.now() < deadline) {
      failures.push(reply);
      assert.ok(reply.status === 500 || reply.status === 503, JSON.stringify(reply));
      await new Promise((resolve) => setTimeout(resolve, 250));
      reply = await request(`${url}/increase?by=4`, "POST");
    }
    assert.equal(reply.status, 200, JSON.stringify([...failures, reply]));
    // A command that failed may still have landed (its ack lost in the restart): the log then
    // holds it too, and the entity re-synced before the reply above. Nothing is lost, nothing
    // forks: the log is 3 followed by one or more 4s, and the last reply is their sum.
    const events = await collect(eventLog.eventsById("counter", id, 1));
    const values = decodeJson(events);
    assert.deepEqual(events.map((e) => e.seqNo), values.map((_, i) => i + 1));
    assert.ok(values.length >= 2 && values.length <= failures.length + 2, JSON.stringify(values));
    assert.deepEqual(values, [
      { type: "increased", by: 3 },
      ...values.slice(1).map(() => ({ type: "increased", by: 4 })),
    ]);
    assert.deepEqual(reply.body, { id, value: 3 + 4 * (values.length - 1) });
  },
);
